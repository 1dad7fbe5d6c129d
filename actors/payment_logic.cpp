#include "actors/payment_logic.hpp"

#include <algorithm>

namespace psp {

std::string to_string(charge_outcome x) {
  switch (x) {
    case charge_outcome::approved:
      return "approved";
    case charge_outcome::declined:
      return "declined";
    default:
      return "transient";
  }
}

std::string to_string(attempt_status x) {
  switch (x) {
    case attempt_status::pending:
      return "pending";
    case attempt_status::final:
      return "final";
    case attempt_status::superseded:
      return "superseded";
    default:
      return "unknown";
  }
}

namespace {

/// The random part of an id: what follows its last underscore.
std::string id_suffix(const std::string& id) {
  auto pos = id.rfind('_');
  return pos == std::string::npos ? id : id.substr(pos + 1);
}

} // namespace

std::string event_id_for(const std::string& attempt_id,
                         const std::string& tag) {
  return "evt_" + id_suffix(attempt_id) + tag;
}

std::string merchant_pending_account(const std::string& merchant_id,
                                     const std::string& currency) {
  return "merchant:" + merchant_id + ":pending:" + currency;
}

std::string receivable_account(const std::string& currency) {
  return "psp:card_network_receivable:" + currency;
}

std::string fee_revenue_account(const std::string& currency) {
  return "psp:fee_revenue:" + currency;
}

std::optional<payment_commit> build_commit(const payment_job& job,
                                           const charge_result& charge) {
  if (charge.outcome == charge_outcome::transient) {
    return std::nullopt;
  }
  payment_commit out;
  out.job = job;
  out.charge = charge;
  if (charge.outcome == charge_outcome::declined) {
    out.events.push_back(event_spec{event_id_for(job.attempt_id, "F"),
                                    "payment_intent.payment_failed",
                                    "payment_intent"});
    return out;
  }
  auto fee = fee_minor(job.amount_minor,
                       fee_schedule{job.fee_bps, job.fee_fixed_minor});
  if (!fee) {
    return std::nullopt;
  }
  out.fee_minor = *fee;
  out.transaction_id = "txn_" + id_suffix(job.attempt_id);
  out.postings = {
    {receivable_account(job.currency), job.amount_minor, 0},
    {merchant_pending_account(job.merchant_id, job.currency), 0,
     job.amount_minor - *fee},
    {fee_revenue_account(job.currency), 0, *fee},
  };
  out.events.push_back(event_spec{event_id_for(job.attempt_id, "S"),
                                  "payment_intent.succeeded",
                                  "payment_intent"});
  if (!job.session_id.empty()) {
    out.events.push_back(event_spec{event_id_for(job.attempt_id, "C"),
                                    "checkout.session.completed",
                                    "checkout.session"});
  }
  return out;
}

std::string decline_error_code(const std::string& decline_code) {
  for (auto* own : {"expired_card", "incorrect_cvc", "incorrect_number",
                    "processing_error"}) {
    if (decline_code == own) {
      return decline_code;
    }
  }
  return "card_declined";
}

bool postings_balanced(const std::vector<ledger_posting>& postings) {
  int64_t debits = 0;
  int64_t credits = 0;
  for (auto& p : postings) {
    if (p.debit_minor < 0 || p.credit_minor < 0) {
      return false;
    }
    if (__builtin_add_overflow(debits, p.debit_minor, &debits)
        || __builtin_add_overflow(credits, p.credit_minor, &credits)) {
      return false;
    }
  }
  return debits == credits;
}

uint32_t backoff_ms(uint32_t retry, uint32_t base_ms, uint32_t max_ms,
                    std::minstd_rand& rng) {
  uint64_t ceiling = base_ms;
  for (uint32_t i = 0; i < retry && ceiling < max_ms; ++i) {
    ceiling *= 2;
  }
  ceiling = std::min<uint64_t>(ceiling, max_ms);
  uint64_t floor = std::min<uint64_t>(base_ms / 2, ceiling);
  std::uniform_int_distribution<uint64_t> pick(floor, ceiling);
  return static_cast<uint32_t>(pick(rng));
}

int64_t next_delivery_ms(int64_t now_ms, uint32_t attempts,
                         const std::vector<int64_t>& schedule_ms) {
  // schedule_ms[0] is the delay before the first try, so after `attempts`
  // failed tries the next delay is schedule_ms[attempts].
  if (attempts >= schedule_ms.size()) {
    return -1;
  }
  return now_ms + schedule_ms[attempts];
}

std::vector<int64_t> default_webhook_schedule_ms() {
  constexpr int64_t s = 1000;
  constexpr int64_t min = 60 * s;
  constexpr int64_t h = 60 * min;
  return {0, 5 * s, 5 * min, 30 * min, 2 * h, 5 * h, 10 * h, 14 * h, 20 * h,
          24 * h};
}

} // namespace psp
