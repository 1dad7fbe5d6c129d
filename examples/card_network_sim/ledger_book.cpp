#include "ledger_book.hpp"

#include "sim_assert.hpp"

#include <utility>

namespace psp::sim {

ledger_book::ledger_book(size_t records_max) : records_max_(records_max) {
  SIM_ASSERT(records_max_ > 0);
}

bool ledger_book::full() const {
  return charges_.size() + refunds_.size() >= records_max_;
}

charge_record* ledger_book::find(const std::string& charge_id) {
  auto it = charge_index_.find(charge_id);
  return it == charge_index_.end() ? nullptr : &charges_[it->second];
}

// Called with the lock held, once per charge: the lifecycle allows a single
// capture, so a reference is never counted twice for one charge.
void ledger_book::note_capture(const charge_record& charge) {
  SIM_ASSERT(charge.captured());
  ++succeeded_by_reference_[charge.reference];
  settlement_entry line;
  line.kind = settlement_kind::capture;
  line.id = charge.id;
  line.charge_id = charge.id;
  line.reference = charge.reference;
  line.merchant = charge.merchant;
  line.currency = charge.currency;
  line.amount_minor = charge.amount_captured_minor;
  line.created_s = charge.captured_s;
  settlement_.push_back(std::move(line));
}

std::optional<charge_record> ledger_book::record_charge(charge_record charge) {
  open_charge(charge);
  std::lock_guard<std::mutex> guard{mtx_};
  if (full()) {
    return std::nullopt;
  }
  if (charge.captured()) {
    note_capture(charge);
  }
  charge_index_.emplace(charge.id, charges_.size());
  charges_.push_back(charge);
  return charge;
}

charge_update ledger_book::capture(const std::string& charge_id,
                                   std::optional<int64_t> amount_minor,
                                   int64_t now_s) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto* charge = find(charge_id);
  if (charge == nullptr) {
    return {};
  }
  auto change = capture_charge(*charge, amount_minor, now_s);
  if (change == charge_change::applied) {
    note_capture(*charge);
  }
  return {true, change, *charge};
}

charge_update ledger_book::void_authorization(const std::string& charge_id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto* charge = find(charge_id);
  if (charge == nullptr) {
    return {};
  }
  auto change = void_charge(*charge);
  return {true, change, *charge};
}

refund_outcome ledger_book::record_refund(refund_record& refund) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto* charge = find(refund.charge_id);
  if (charge == nullptr) {
    return refund_outcome::charge_not_found;
  }
  refund.reference = charge->reference;
  refund.currency = charge->currency;
  // Declined, uncaptured and voided charges captured nothing, and a partial
  // capture released the rest: only captured money can go back.
  if (refund.amount_minor > refundable_minor(*charge)) {
    return refund_outcome::amount_too_large;
  }
  if (full()) {
    return refund_outcome::capacity;
  }
  charge->refunded_minor += refund.amount_minor;
  SIM_ASSERT(charge->refunded_minor <= charge->amount_captured_minor);
  refunds_.push_back(refund);
  settlement_entry line;
  line.kind = settlement_kind::refund;
  line.id = refund.id;
  line.charge_id = refund.charge_id;
  line.reference = charge->reference;
  line.merchant = charge->merchant;
  line.currency = charge->currency;
  line.amount_minor = refund.amount_minor;
  line.created_s = refund.created_s;
  settlement_.push_back(std::move(line));
  return refund_outcome::recorded;
}

std::vector<charge_record> ledger_book::charges() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return charges_;
}

std::vector<refund_record> ledger_book::refunds() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return refunds_;
}

std::vector<settlement_entry> ledger_book::settlement() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return settlement_;
}

std::map<std::string, uint64_t> ledger_book::succeeded_counts() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return {succeeded_by_reference_.begin(), succeeded_by_reference_.end()};
}

void ledger_book::clear() {
  std::lock_guard<std::mutex> guard{mtx_};
  charges_.clear();
  charge_index_.clear();
  refunds_.clear();
  settlement_.clear();
  succeeded_by_reference_.clear();
}

} // namespace psp::sim
