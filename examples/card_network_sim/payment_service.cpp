#include "payment_service.hpp"

#include "id_generator.hpp"
#include "idempotency_table.hpp"
#include "journal.hpp"
#include "json_codec.hpp"
#include "ledger_book.hpp"
#include "request_parsing.hpp"
#include "sim_clock.hpp"
#include "sim_stats.hpp"
#include "test_cards.hpp"

#include <utility>

namespace psp::sim {

payment_service::payment_service(ledger_book& ledger, idempotency_table& keys,
                                 sim_stats& stats, sim_journal* journal)
    : ledger_(ledger), runner_(keys, stats, journal), stats_(stats) {
  // nop
}

api_response payment_service::charge(const std::string& key,
                                     const std::string& body) {
  if (auto bad = check_idempotency_key(key); !bad.body.empty()) {
    return bad;
  }
  auto req = parse_charge_request(body);
  if (!req.value) {
    return error_response(400, "invalid_request", req.error);
  }
  const auto& r = *req.value;
  request_fingerprint fp{"charge", r.reference, r.amount_minor, r.currency,
                         r.capture, card_fingerprint(r)};
  return runner_.run_once(key, fp, [&] { return execute_charge(key, r); });
}

api_response payment_service::refund(const std::string& key,
                                     const std::string& body) {
  if (auto bad = check_idempotency_key(key); !bad.body.empty()) {
    return bad;
  }
  auto req = parse_refund_request(body);
  if (!req.value) {
    return error_response(400, "invalid_request", req.error);
  }
  const auto& r = *req.value;
  request_fingerprint fp{"refund", r.charge_id, r.amount_minor, ""};
  return runner_.run_once(key, fp, [&] {
    return execute_refund(key, r.charge_id, r.amount_minor);
  });
}

api_response payment_service::execute_charge(const std::string& key,
                                             const charge_request& req) {
  // The card number and CVC end here: only the verdict, brand and last four
  // digits go into the record.
  auto verdict = classify_card(req.card_number);
  charge_record charge;
  charge.id = random_id("ch_");
  charge.reference = req.reference;
  charge.idempotency_key = key;
  charge.merchant = req.merchant;
  charge.currency = req.currency;
  charge.brand = card_brand(req.card_number);
  charge.last4 = card_last4(req.card_number);
  charge.decline_code = verdict.decline_code;
  charge.amount_minor = req.amount_minor;
  charge.created_s = now_s();
  charge.auto_capture = req.capture;
  auto effect = charge_effect(charge);
  auto recorded = ledger_.record_charge(std::move(charge));
  if (!recorded) {
    return capacity_response();
  }
  auto out = executed({verdict.approved() ? 200 : 402,
                       dump_json(charge_body(*recorded, verdict.message))});
  out.effect = std::move(effect);
  if (!verdict.approved()) {
    ++stats_.declines;
    return out;
  }
  ++(req.capture ? stats_.charges : stats_.authorizations);
  return out;
}

api_response payment_service::execute_refund(const std::string& key,
                                             const std::string& charge_id,
                                             int64_t amount_minor) {
  refund_record refund;
  refund.id = random_id("re_");
  refund.charge_id = charge_id;
  refund.idempotency_key = key;
  refund.amount_minor = amount_minor;
  refund.created_s = now_s();
  switch (ledger_.record_refund(refund)) {
  case refund_outcome::recorded: {
    ++stats_.refunds;
    auto out = executed({200, dump_json(refund_body(refund))});
    out.effect = refund_effect(refund);
    return out;
  }
  case refund_outcome::charge_not_found:
    return executed(error_response(404, "charge_not_found",
                                   "No such charge: " + charge_id));
  case refund_outcome::amount_too_large:
    return executed(error_response(400, "amount_too_large",
                                   "Refund amount exceeds the captured "
                                   "amount not yet refunded."));
  case refund_outcome::capacity:
    break;
  }
  return capacity_response();
}

} // namespace psp::sim
