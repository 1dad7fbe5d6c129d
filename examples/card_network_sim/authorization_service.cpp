#include "authorization_service.hpp"

#include "idempotency_table.hpp"
#include "journal.hpp"
#include "json_codec.hpp"
#include "ledger_book.hpp"
#include "request_parsing.hpp"
#include "sim_assert.hpp"
#include "sim_clock.hpp"
#include "sim_stats.hpp"

namespace psp::sim {

namespace {

// Only called for a refused change; an applied one answers the charge.
api_response refusal(charge_change change) {
  SIM_ASSERT(change != charge_change::applied);
  switch (change) {
  case charge_change::charge_declined:
    return error_response(400, "charge_declined",
                          "This charge was declined; there is nothing to "
                          "capture or release.");
  case charge_change::already_captured:
    return error_response(400, "charge_already_captured",
                          "This charge has already been captured.");
  case charge_change::already_voided:
    return error_response(400, "charge_voided",
                          "This authorisation has been voided.");
  case charge_change::amount_too_large:
    return error_response(400, "amount_too_large",
                          "The capture amount exceeds the authorised "
                          "amount.");
  case charge_change::applied:
    break;
  }
  return {};
}

// Validation shared by both endpoints; an empty body means "valid".
api_response check_target(const std::string& key,
                          const std::string& charge_id) {
  if (auto bad = check_idempotency_key(key); !bad.body.empty()) {
    return bad;
  }
  if (!valid_charge_id(charge_id)) {
    return error_response(400, "invalid_request",
                          "the charge id must be 1 to 255 printable "
                          "characters");
  }
  return {};
}

} // namespace

api_response authorization_answer(const std::string& charge_id,
                                  const charge_update& update) {
  if (!update.found) {
    return error_response(404, "charge_not_found",
                          "No such charge: " + charge_id);
  }
  if (update.change != charge_change::applied) {
    return refusal(update.change);
  }
  return {200, dump_json(charge_object(update.charge)), false, false};
}

authorization_service::authorization_service(ledger_book& ledger,
                                             idempotency_table& keys,
                                             sim_stats& stats, sim_journal* journal)
    : ledger_(ledger), runner_(keys, stats, journal), stats_(stats) {
  // nop
}

api_response authorization_service::capture(const std::string& key,
                                            const std::string& charge_id,
                                            const std::string& body) {
  if (auto bad = check_target(key, charge_id); !bad.body.empty()) {
    return bad;
  }
  auto req = parse_capture_request(body);
  if (!req.value) {
    return error_response(400, "invalid_request", req.error);
  }
  auto amount = req.value->amount_minor;
  // 0 stands for "no amount": capturing everything and naming the full
  // amount are different requests, as they are on Stripe.
  request_fingerprint fp{"capture", charge_id, amount.value_or(0), ""};
  return runner_.run_once(key, fp,
                          [&] { return execute_capture(charge_id, amount); });
}

api_response authorization_service::void_charge(const std::string& key,
                                                const std::string& charge_id) {
  if (auto bad = check_target(key, charge_id); !bad.body.empty()) {
    return bad;
  }
  request_fingerprint fp{"void", charge_id, 0, ""};
  return runner_.run_once(key, fp, [&] { return execute_void(charge_id); });
}

api_response
authorization_service::execute_capture(const std::string& charge_id,
                                       std::optional<int64_t> amount_minor) {
  auto at_s = now_s();
  auto update = ledger_.capture(charge_id, amount_minor, at_s);
  auto out = executed(authorization_answer(charge_id, update));
  if (update.found && update.change == charge_change::applied) {
    ++stats_.captures;
    out.effect = capture_effect(charge_id, amount_minor, at_s);
  }
  return out;
}

api_response authorization_service::execute_void(const std::string& charge_id) {
  auto update = ledger_.void_authorization(charge_id);
  auto out = executed(authorization_answer(charge_id, update));
  if (update.found && update.change == charge_change::applied) {
    ++stats_.voids;
    out.effect = void_effect(charge_id);
  }
  return out;
}

} // namespace psp::sim
