#include "charge_lifecycle.hpp"

#include "sim_assert.hpp"

namespace psp::sim {

namespace {

// The refusal shared by capture and void for a charge that is not (or no
// longer) an open authorisation.
charge_change refusal_for(const charge_record& charge) {
  switch (charge.status) {
  case charge_status::declined:
    return charge_change::charge_declined;
  case charge_status::succeeded:
    return charge_change::already_captured;
  case charge_status::voided:
    return charge_change::already_voided;
  case charge_status::authorized:
    break;
  }
  return charge_change::applied;
}

} // namespace

std::string_view status_name(charge_status status) {
  switch (status) {
  case charge_status::declined:
    return "declined";
  case charge_status::authorized:
    return "authorized";
  case charge_status::succeeded:
    return "succeeded";
  case charge_status::voided:
    return "voided";
  }
  return "unknown";
}

void open_charge(charge_record& charge) {
  charge.amount_captured_minor = 0;
  charge.captured_s = 0;
  if (!charge.approved()) {
    charge.status = charge_status::declined;
    return;
  }
  charge.status = charge_status::authorized;
  if (charge.auto_capture) {
    auto done = capture_charge(charge, std::nullopt, charge.created_s);
    SIM_ASSERT(done == charge_change::applied);
  }
}

charge_change capture_charge(charge_record& charge,
                             std::optional<int64_t> amount_minor,
                             int64_t now_s) {
  if (auto refused = refusal_for(charge); refused != charge_change::applied) {
    return refused;
  }
  auto amount = amount_minor.value_or(charge.amount_minor);
  // Validation rejects non-positive amounts before they get here.
  SIM_ASSERT(amount > 0);
  if (amount > charge.amount_minor) {
    return charge_change::amount_too_large;
  }
  charge.status = charge_status::succeeded;
  charge.amount_captured_minor = amount;
  charge.captured_s = now_s;
  return charge_change::applied;
}

charge_change void_charge(charge_record& charge) {
  if (auto refused = refusal_for(charge); refused != charge_change::applied) {
    return refused;
  }
  charge.status = charge_status::voided;
  return charge_change::applied;
}

int64_t refundable_minor(const charge_record& charge) {
  if (!charge.captured()) {
    return 0;
  }
  SIM_ASSERT(charge.refunded_minor <= charge.amount_captured_minor);
  return charge.amount_captured_minor - charge.refunded_minor;
}

} // namespace psp::sim
