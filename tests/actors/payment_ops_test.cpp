// Goal: what each payment op commits (manual capture, void, refund and
// their refusals): balanced postings, the right accounts and amounts, the
// fields set on each record and the events, all decided without Redis.

#include "actors/payment_logic.hpp"
#include "tests/actors/fakes.hpp"

#include <gtest/gtest.h>

#include <map>

namespace psp::test {
namespace {

payment_job op_job(payment_op op, int64_t amount, int64_t held = 0) {
  auto job = sample_job(op == payment_op::refund ? "re_R1" : "cap_C1");
  job.op = op;
  job.amount_minor = amount;
  job.held_minor = held;
  job.network_ref = "ch_N1";
  return job;
}

/// Net effect per account (debit - credit).
std::map<std::string, int64_t> net(const std::vector<ledger_posting>& ps) {
  std::map<std::string, int64_t> out;
  for (auto& p : ps) {
    out[p.account] += p.debit_minor - p.credit_minor;
  }
  return out;
}

std::string update(const payment_commit& c, const std::string& record,
                   const std::string& field) {
  for (auto& u : c.updates) {
    if (u.record == record && u.field == field) {
      return u.value;
    }
  }
  return "<unset>";
}

TEST(payment_ops, authorization_holds_funds_in_memo_accounts_only) {
  auto job = sample_job();
  job.op = payment_op::authorize;
  auto c = build_commit(job, approved("ch_7"));
  ASSERT_TRUE(c);
  EXPECT_TRUE(postings_balanced(c->postings));
  auto n = net(c->postings);
  EXPECT_EQ(n["psp:card_network_holds:usd"], 2000);
  EXPECT_EQ(n["merchant:acct_M1:held:usd"], -2000);
  EXPECT_EQ(n.count("merchant:acct_M1:pending:usd"), 0u);
  EXPECT_EQ(update(*c, "intent", "status"), "requires_capture");
  EXPECT_EQ(update(*c, "intent", "amount_capturable"), "2000");
  EXPECT_EQ(c->balance.type, "");
  EXPECT_EQ(c->events[0].type, "payment_intent.amount_capturable_updated");
}

TEST(payment_ops, manual_capture_session_completes_unpaid) {
  auto job = sample_job();
  job.op = payment_op::authorize;
  job.session_id = "cs_1";
  auto c = build_commit(job, approved());
  ASSERT_TRUE(c);
  EXPECT_EQ(update(*c, "session", "status"), "complete");
  EXPECT_EQ(update(*c, "session", "payment_status"), "unpaid");
}

TEST(payment_ops, partial_capture_releases_the_whole_hold_and_posts_the_sale) {
  auto c = build_commit(op_job(payment_op::capture, 1200, 2000), approved());
  ASSERT_TRUE(c);
  EXPECT_TRUE(postings_balanced(c->postings));
  auto n = net(c->postings);
  EXPECT_EQ(n["psp:card_network_holds:usd"], -2000);
  EXPECT_EQ(n["merchant:acct_M1:held:usd"], 2000);
  EXPECT_EQ(n["psp:card_network_receivable:usd"], 1200);
  EXPECT_EQ(n["merchant:acct_M1:pending:usd"], -(1200 - c->fee_minor));
  EXPECT_EQ(n["psp:fee_revenue:usd"], -c->fee_minor);
  EXPECT_EQ(c->fee_minor, 65); // 2.9 % of 1200 = 34.8 -> 35, + 30
  EXPECT_EQ(c->balance.type, "charge");
  EXPECT_EQ(c->balance.source, "ch_N1");
  EXPECT_EQ(c->balance.amount_minor, 1200);
  EXPECT_EQ(update(*c, "intent", "status"), "succeeded");
  EXPECT_EQ(update(*c, "intent", "amount_received"), "1200");
  EXPECT_EQ(update(*c, "intent", "amount_capturable"), "0");
  EXPECT_EQ(c->transaction_id, "txn_C1");
}

TEST(payment_ops, void_releases_the_hold_and_cancels) {
  auto c = build_commit(op_job(payment_op::void_auth, 0, 2000), approved());
  ASSERT_TRUE(c);
  EXPECT_TRUE(postings_balanced(c->postings));
  auto n = net(c->postings);
  EXPECT_EQ(n["psp:card_network_holds:usd"], -2000);
  EXPECT_EQ(n["merchant:acct_M1:held:usd"], 2000);
  EXPECT_EQ(update(*c, "intent", "status"), "canceled");
  EXPECT_EQ(update(*c, "intent", "canceled_at"), "$now");
  EXPECT_EQ(c->events.at(0).type, "payment_intent.canceled");
}

TEST(payment_ops, refund_takes_from_the_merchant_and_keeps_the_fee) {
  auto c = build_commit(op_job(payment_op::refund, 700), approved("re_net"));
  ASSERT_TRUE(c);
  EXPECT_TRUE(postings_balanced(c->postings));
  auto n = net(c->postings);
  EXPECT_EQ(n["merchant:acct_M1:pending:usd"], 700);
  EXPECT_EQ(n["psp:card_network_receivable:usd"], -700);
  EXPECT_EQ(n.count("psp:fee_revenue:usd"), 0u);
  EXPECT_EQ(c->balance.type, "refund");
  EXPECT_EQ(c->balance.amount_minor, -700);
  EXPECT_EQ(c->balance.source, "re_R1");
  EXPECT_EQ(update(*c, "refund", "status"), "succeeded");
  ASSERT_EQ(c->increments.size(), 2u);
  EXPECT_EQ(c->increments[0].field, "amount_refunded");
  EXPECT_EQ(c->increments[0].delta_minor, 700);
  EXPECT_EQ(c->increments[1].field, "refund_pending");
  EXPECT_EQ(c->increments[1].delta_minor, -700);
  ASSERT_EQ(c->events.size(), 2u);
  EXPECT_EQ(c->events[0].type, "charge.refunded");
  EXPECT_EQ(c->events[0].object, "charge");
  EXPECT_EQ(c->events[1].type, "refund.updated");
}

TEST(payment_ops, refused_refund_moves_nothing_and_frees_its_reservation) {
  auto res = declined("amount_too_large");
  auto c = build_commit(op_job(payment_op::refund, 700), res);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->postings.empty());
  EXPECT_TRUE(c->transaction_id.empty());
  EXPECT_EQ(update(*c, "refund", "status"), "failed");
  // One of Stripe's failure reasons, not the network's code; the op keeps
  // that.
  EXPECT_EQ(update(*c, "refund", "failure_reason"), "declined");
  EXPECT_EQ(update(*c, "op", "decline_code"), "amount_too_large");
  ASSERT_EQ(c->increments.size(), 1u);
  EXPECT_EQ(c->increments[0].delta_minor, -700);
  EXPECT_EQ(c->events.at(0).type, "refund.failed");
  EXPECT_EQ(update(*c, "intent", "status"), "<unset>");
}

TEST(payment_ops, a_refund_failure_reason_is_one_stripe_documents) {
  for (auto [code, reason] :
       std::vector<std::pair<std::string, std::string>>{
         {"expired_card", "expired_or_canceled_card"},
         {"lost_card", "lost_or_stolen_card"},
         {"stolen_card", "lost_or_stolen_card"},
         {"insufficient_funds", "insufficient_funds"},
         {"amount_too_large", "declined"},
         {"do_not_honor", "declined"},
         {"", "unknown"}}) {
    EXPECT_EQ(refund_failure_reason(code), reason) << code;
  }
}

TEST(payment_ops, refused_capture_leaves_the_intent_capturable) {
  auto c = build_commit(op_job(payment_op::capture, 2000, 2000),
                        declined("amount_too_large"));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->postings.empty());
  EXPECT_EQ(update(*c, "op", "status"), "failed");
  EXPECT_EQ(update(*c, "intent", "status"), "<unset>");
  EXPECT_EQ(update(*c, "intent", "pending_op"), "");
}

TEST(payment_ops, an_authorization_gone_at_the_network_cancels_the_intent) {
  for (auto code : {"charge_voided", "charge_not_found"}) {
    for (auto op : {payment_op::capture, payment_op::void_auth}) {
      auto c = build_commit(op_job(op, 1500, 2000), declined(code));
      ASSERT_TRUE(c) << code;
      // The whole hold is released, whatever the capture asked for.
      ASSERT_EQ(c->postings.size(), 2u) << code;
      int64_t released = 0;
      for (auto& p : c->postings) {
        released += p.debit_minor;
      }
      EXPECT_EQ(released, 2000) << code;
      EXPECT_FALSE(c->transaction_id.empty());
      EXPECT_EQ(update(*c, "op", "status"),
                op == payment_op::void_auth ? "succeeded" : "failed")
        << code;
      EXPECT_EQ(update(*c, "intent", "status"), "canceled") << code;
      EXPECT_EQ(update(*c, "intent", "cancellation_reason"), "automatic");
      EXPECT_EQ(update(*c, "intent", "amount_capturable"), "0");
      ASSERT_EQ(c->events.size(), 1u);
      EXPECT_EQ(c->events[0].type, "payment_intent.canceled");
    }
  }
}

TEST(payment_ops, transient_answers_commit_nothing) {
  for (auto op : {payment_op::capture, payment_op::void_auth,
                  payment_op::refund}) {
    charge_result unknown;
    EXPECT_FALSE(build_commit(op_job(op, 100, 100), unknown)) << to_string(op);
  }
}

TEST(payment_ops, every_op_has_a_distinct_name) {
  std::map<std::string, int> seen;
  for (auto op : {payment_op::charge, payment_op::authorize,
                  payment_op::capture, payment_op::void_auth,
                  payment_op::refund}) {
    ++seen[to_string(op)];
  }
  EXPECT_EQ(seen.size(), 5u);
}

} // namespace
} // namespace psp::test
