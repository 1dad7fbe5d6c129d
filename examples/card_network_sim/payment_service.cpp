#include "payment_service.hpp"

#include "id_generator.hpp"
#include "idempotency_table.hpp"
#include "json_codec.hpp"
#include "ledger_book.hpp"
#include "request_parsing.hpp"
#include "sim_stats.hpp"
#include "test_cards.hpp"

#include <ctime>
#include <utility>

namespace psp::sim {

namespace {

int64_t now_s() {
  return static_cast<int64_t>(std::time(nullptr));
}

// Marks an answer as the executed, stored outcome of its key.
api_response executed(api_response out) {
  out.processed = true;
  return out;
}

// Releases a claimed key unless the owner stored an answer, so an exception
// or a capacity failure never leaves the key stuck "in flight".
class key_owner {
public:
  key_owner(idempotency_table& keys, const std::string& key, uint64_t ticket)
      : keys_(keys), key_(key), ticket_(ticket) {
    // nop
  }
  ~key_owner() {
    if (!completed_) {
      keys_.release(key_, ticket_);
    }
  }
  void complete(const api_response& out) {
    keys_.complete(key_, ticket_, {out.status, out.body});
    completed_ = true;
  }

private:
  idempotency_table& keys_;
  const std::string& key_;
  uint64_t ticket_;
  bool completed_ = false;
};

} // namespace

api_response check_idempotency_key(const std::string& key) {
  if (key.empty()) {
    return error_response(400, "missing_idempotency_key",
                          "An Idempotency-Key header is required.");
  }
  if (!valid_idempotency_key(key)) {
    return error_response(400, "invalid_request",
                          "Idempotency-Key must be 1 to 255 printable "
                          "characters without spaces.");
  }
  return {};
}

api_response capacity_response() {
  return error_response(503, "capacity",
                        "The simulator stores no more keys or charges.");
}

payment_service::payment_service(ledger_book& ledger, idempotency_table& keys,
                                 sim_stats& stats)
    : ledger_(ledger), keys_(keys), stats_(stats) {
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
  request_fingerprint fp{"charge", req.value->reference,
                         req.value->amount_minor, req.value->currency};
  return run_once(key, fp, [&] { return execute_charge(key, *req.value); });
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
  return run_once(key, fp, [&] {
    return execute_refund(key, r.charge_id, r.amount_minor);
  });
}

api_response payment_service::run_once(const std::string& key,
                                       const request_fingerprint& fp,
                                       const execute_fn& execute) {
  auto claim = keys_.claim(key, fp);
  switch (claim.kind) {
  case claim_kind::replay:
    ++stats_.replays;
    return {claim.response.status, std::move(claim.response.body), true, false};
  case claim_kind::conflict:
    return error_response(409, "idempotency_key_reused",
                          "This Idempotency-Key was used with different "
                          "parameters.");
  case claim_kind::capacity:
    return capacity_response();
  case claim_kind::busy:
    return error_response(409, "idempotency_key_in_use",
                          "A request with this Idempotency-Key is still "
                          "being processed.");
  case claim_kind::owner:
    break;
  }
  key_owner owner{keys_, key, claim.ticket};
  auto out = execute();
  if (out.processed) {
    owner.complete(out);
  }
  return out;
}

api_response payment_service::execute_charge(const std::string& key,
                                             const charge_request& req) {
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
  auto body = dump_json(charge_body(charge, verdict.message));
  if (!ledger_.record_charge(std::move(charge))) {
    return capacity_response();
  }
  ++(verdict.approved() ? stats_.charges : stats_.declines);
  return executed({verdict.approved() ? 200 : 402, std::move(body)});
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
  case refund_outcome::recorded:
    ++stats_.refunds;
    return executed({200, dump_json(refund_body(refund))});
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
