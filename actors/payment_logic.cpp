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

std::string to_string(payment_op x) {
  switch (x) {
    case payment_op::charge:
      return "charge";
    case payment_op::authorize:
      return "authorize";
    case payment_op::capture:
      return "capture";
    case payment_op::void_auth:
      return "void";
    default:
      return "refund";
  }
}

std::string network_idempotency_key(const payment_job& job) {
  bool card_attempt = job.op == payment_op::charge
                      || job.op == payment_op::authorize;
  if (card_attempt && job.page_ordinal > 0 && !job.session_id.empty()) {
    return job.session_id + ":page_attempt:"
           + std::to_string(job.page_ordinal);
  }
  return job.attempt_id;
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

std::string network_holds_account(const std::string& currency) {
  return "psp:card_network_holds:" + currency;
}

std::string merchant_held_account(const std::string& merchant_id,
                                  const std::string& currency) {
  return "merchant:" + merchant_id + ":held:" + currency;
}

namespace {

/// Fields the commit step fills in with its own clock reading.
const std::string now_marker = "$now";
/// A field the commit step fills in with the intent's payment_method as it
/// was before this step's writes.
const std::string payment_method_marker = "$payment_method";
/// A field the commit step fills in with the declined card as its attempt
/// keeps it ("brand|last4|exp_month|exp_year|created"), so that the intent
/// and its events show last_payment_error.payment_method on their own.
const std::string declined_card_marker = "$declined_card";
/// A field the commit step fills in with the metadata the capture request
/// asked for (merged when it was accepted, kept on the op record), or
/// leaves alone when it asked for none: a refused capture changes nothing.
const std::string op_metadata_marker = "$op_metadata";

void set(payment_commit& c, const char* record, const char* field,
         std::string value) {
  c.updates.push_back(record_update{record, field, std::move(value)});
}

void add_event(payment_commit& c, const char* tag, const char* type,
               const char* object) {
  c.events.push_back(
    event_spec{event_id_for(c.job.attempt_id, tag), type, object});
}

/// The sale: receivable debited with the amount, merchant pending credited
/// with the net, fee revenue with the fee.
bool post_sale(payment_commit& c, int64_t amount_minor,
               const std::string& charge_id) {
  auto& job = c.job;
  auto fee = fee_minor(amount_minor,
                       fee_schedule{job.fee_bps, job.fee_fixed_minor});
  if (!fee) {
    return false;
  }
  c.fee_minor = *fee;
  c.postings.push_back({receivable_account(job.currency), amount_minor, 0});
  c.postings.push_back({merchant_pending_account(job.merchant_id, job.currency),
                        0, amount_minor - *fee});
  c.postings.push_back({fee_revenue_account(job.currency), 0, *fee});
  c.balance = balance_entry{"charge", charge_id, amount_minor, *fee};
  return true;
}

/// An authorisation hold as memo accounts, so holds show in the ledger and
/// every release can be checked against its hold.
void post_hold(payment_commit& c, int64_t amount_minor, bool release) {
  auto& job = c.job;
  ledger_posting network{network_holds_account(job.currency), amount_minor, 0};
  ledger_posting merchant{merchant_held_account(job.merchant_id, job.currency),
                          0, amount_minor};
  if (release) {
    std::swap(network.debit_minor, network.credit_minor);
    std::swap(merchant.debit_minor, merchant.credit_minor);
  }
  c.postings.push_back(std::move(network));
  c.postings.push_back(std::move(merchant));
}

void commit_declined_attempt(payment_commit& c) {
  auto& res = c.charge;
  set(c, "op", "status", "failed");
  set(c, "op", "decline_code", res.decline_code);
  // The attempt answers its own decline after the intent moved on to
  // another confirm (payment_submission.cpp).
  set(c, "op", "error_message", res.message);
  set(c, "intent", "status", "requires_payment_method");
  set(c, "intent", "last_error_code", decline_error_code(res.decline_code));
  set(c, "intent", "last_error_decline_code", res.decline_code);
  set(c, "intent", "last_error_message", res.message);
  // As Stripe does: the declined card leaves the intent (a new confirm
  // needs a card) and is named by the error instead.
  set(c, "intent", "last_error_payment_method", payment_method_marker);
  set(c, "intent", "last_error_card", declined_card_marker);
  set(c, "intent", "payment_method", "");
  if (res.key_conflict) {
    // The network holds a payment for this checkout that Redis lost: a
    // card taken now under a new key would be a second payment.
    set(c, "intent", "page_closed", res.decline_code);
  }
  add_event(c, "F", "payment_intent.payment_failed", "payment_intent");
}

bool commit_charge(payment_commit& c) {
  auto& job = c.job;
  if (!post_sale(c, job.amount_minor, c.charge.charge_id)) {
    return false;
  }
  set(c, "op", "status", "succeeded");
  set(c, "op", "charge", c.charge.charge_id);
  set(c, "intent", "status", "succeeded");
  set(c, "intent", "latest_charge", c.charge.charge_id);
  // The charge's balance transaction (this step's), as Stripe names it.
  set(c, "intent", "balance_transaction", "txn_" + id_suffix(job.attempt_id));
  set(c, "intent", "amount_received", std::to_string(job.amount_minor));
  set(c, "intent", "fee", std::to_string(c.fee_minor));
  add_event(c, "S", "payment_intent.succeeded", "payment_intent");
  if (!job.session_id.empty()) {
    set(c, "session", "status", "complete");
    set(c, "session", "payment_status", "paid");
    set(c, "session", "completed", now_marker);
    add_event(c, "C", "checkout.session.completed", "checkout.session");
  }
  return true;
}

void commit_authorization(payment_commit& c) {
  auto& job = c.job;
  post_hold(c, job.amount_minor, false);
  set(c, "op", "status", "succeeded");
  set(c, "op", "charge", c.charge.charge_id);
  set(c, "intent", "status", "requires_capture");
  set(c, "intent", "latest_charge", c.charge.charge_id);
  set(c, "intent", "amount_capturable", std::to_string(job.amount_minor));
  add_event(c, "A", "payment_intent.amount_capturable_updated",
            "payment_intent");
  if (!job.session_id.empty()) {
    // Stripe completes a manual-capture session unpaid: funds are held only.
    set(c, "session", "status", "complete");
    set(c, "session", "payment_status", "unpaid");
    set(c, "session", "completed", now_marker);
    add_event(c, "C", "checkout.session.completed", "checkout.session");
  }
}

bool commit_capture(payment_commit& c) {
  auto& job = c.job;
  post_hold(c, job.held_minor, true);
  if (!post_sale(c, job.amount_minor, job.network_ref)) {
    return false;
  }
  set(c, "op", "status", "succeeded");
  set(c, "intent", "status", "succeeded");
  set(c, "intent", "balance_transaction", "txn_" + id_suffix(job.attempt_id));
  set(c, "intent", "amount_received", std::to_string(job.amount_minor));
  set(c, "intent", "amount_capturable", "0");
  set(c, "intent", "fee", std::to_string(c.fee_minor));
  set(c, "intent", "pending_op", "");
  set(c, "intent", "metadata", op_metadata_marker);
  add_event(c, "S", "payment_intent.succeeded", "payment_intent");
  return true;
}

void commit_void(payment_commit& c) {
  post_hold(c, c.job.held_minor, true);
  set(c, "op", "status", "succeeded");
  set(c, "intent", "status", "canceled");
  set(c, "intent", "canceled_at", now_marker);
  set(c, "intent", "amount_capturable", "0");
  set(c, "intent", "pending_op", "");
  add_event(c, "X", "payment_intent.canceled", "payment_intent");
}

void commit_refund(payment_commit& c) {
  auto& job = c.job;
  c.postings = {
    {merchant_pending_account(job.merchant_id, job.currency),
     job.amount_minor, 0},
    {receivable_account(job.currency), 0, job.amount_minor},
  };
  c.balance = balance_entry{"refund", job.attempt_id, -job.amount_minor, 0};
  set(c, "op", "status", "succeeded");
  set(c, "refund", "status", "succeeded");
  set(c, "refund", "network_refund", c.charge.charge_id);
  c.increments = {{"amount_refunded", job.amount_minor},
                  {"refund_pending", -job.amount_minor}};
  add_event(c, "R", "charge.refunded", "charge");
  add_event(c, "U", "refund.updated", "refund");
}

/// A capture, void or refund the network refused: nothing moves, unless the
/// authorisation is gone at the network. Then nothing can ever be captured
/// or released, so the intent is canceled and our memo of the hold released
/// (Stripe cancels a lapsed authorisation with reason "automatic"); a void
/// has what it asked for and succeeds.
void commit_refused_op(payment_commit& c) {
  bool gone = c.job.op != payment_op::refund
              && authorization_gone(c.charge.decline_code);
  set(c, "op", "status",
      gone && c.job.op == payment_op::void_auth ? "succeeded" : "failed");
  set(c, "op", "decline_code", c.charge.decline_code);
  set(c, "op", "error_message", c.charge.message);
  if (c.job.op == payment_op::refund) {
    set(c, "refund", "status", "failed");
    set(c, "refund", "failure_reason",
        refund_failure_reason(c.charge.decline_code));
    c.increments = {{"refund_pending", -c.job.amount_minor}};
    add_event(c, "U", "refund.failed", "refund");
    return;
  }
  set(c, "intent", "pending_op", "");
  if (gone) {
    post_hold(c, c.job.held_minor, true);
    set(c, "intent", "status", "canceled");
    set(c, "intent", "canceled_at", now_marker);
    set(c, "intent", "cancellation_reason", "automatic");
    set(c, "intent", "amount_capturable", "0");
    add_event(c, "X", "payment_intent.canceled", "payment_intent");
  }
}

} // namespace

std::optional<payment_commit> build_commit(const payment_job& job,
                                           const charge_result& charge) {
  if (charge.outcome == charge_outcome::transient) {
    return std::nullopt;
  }
  payment_commit out;
  out.job = job;
  out.charge = charge;
  bool approved = charge.outcome == charge_outcome::approved;
  bool attempt = job.op == payment_op::charge
                 || job.op == payment_op::authorize;
  if (!approved) {
    if (attempt) {
      commit_declined_attempt(out);
    } else {
      commit_refused_op(out);
    }
  } else {
    switch (job.op) {
      case payment_op::charge:
        if (!commit_charge(out)) {
          return std::nullopt;
        }
        break;
      case payment_op::authorize:
        commit_authorization(out);
        break;
      case payment_op::capture:
        if (!commit_capture(out)) {
          return std::nullopt;
        }
        break;
      case payment_op::void_auth:
        commit_void(out);
        break;
      case payment_op::refund:
        commit_refund(out);
        break;
    }
  }
  if (!job.fence_node.empty() && attempt) {
    set(out, "intent", "processed_by", job.fence_node);
  }
  if (!out.postings.empty()) {
    out.transaction_id = "txn_" + id_suffix(job.attempt_id);
  }
  return out;
}

std::string refund_failure_reason(const std::string& decline_code) {
  if (decline_code == "expired_card" || decline_code == "card_canceled") {
    return "expired_or_canceled_card";
  }
  if (decline_code == "lost_card" || decline_code == "stolen_card") {
    return "lost_or_stolen_card";
  }
  if (decline_code == "insufficient_funds") {
    return "insufficient_funds";
  }
  // A refusal with a reason we cannot name more closely (the network says
  // the charge has less left to refund than asked, say) is a decline;
  // no reason at all is unknown.
  return decline_code.empty() ? "unknown" : "declined";
}

bool authorization_gone(const std::string& decline_code) {
  return decline_code == "charge_voided" || decline_code == "charge_not_found";
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
