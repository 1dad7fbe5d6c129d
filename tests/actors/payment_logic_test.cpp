// Goal: the pure decisions of the payment flow (fees, postings, event ids,
// backoff, webhook schedule) including their edge cases.

#include "actors/money.hpp"
#include "actors/payment_logic.hpp"
#include "tests/actors/fakes.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <string>

namespace psp::test {
namespace {

TEST(money, fee_rounds_half_up_and_is_capped_at_the_amount) {
  EXPECT_EQ(fee_minor(2000, {290, 30}), 88);
  EXPECT_EQ(fee_minor(50, {290, 30}), 31);   // 1.45 -> 1, + 30
  EXPECT_EQ(fee_minor(52, {290, 30}), 32);   // 1.508 -> 2, + 30
  EXPECT_EQ(fee_minor(10, {290, 30}), 10);   // capped at the amount
  EXPECT_EQ(fee_minor(0, {0, 0}), 0);
  EXPECT_FALSE(fee_minor(-1, {290, 30}));
  EXPECT_FALSE(fee_minor(std::numeric_limits<int64_t>::max(), {290, 30}));
}

TEST(money, checked_add_detects_overflow) {
  EXPECT_EQ(checked_add(1, 2), 3);
  EXPECT_FALSE(checked_add(std::numeric_limits<int64_t>::max(), 1));
}

TEST(payment_logic, approved_commit_balances_and_names_accounts) {
  auto c = build_commit(sample_job(), approved("ch_9"));
  ASSERT_TRUE(c);
  EXPECT_TRUE(postings_balanced(c->postings));
  ASSERT_EQ(c->postings.size(), 3u);
  EXPECT_EQ(c->postings[0].account, "psp:card_network_receivable:usd");
  EXPECT_EQ(c->postings[0].debit_minor, 2000);
  EXPECT_EQ(c->postings[1].account, "merchant:acct_M1:pending:usd");
  EXPECT_EQ(c->postings[2].account, "psp:fee_revenue:usd");
  EXPECT_EQ(c->postings[1].credit_minor, 1912);
  EXPECT_EQ(c->postings[2].credit_minor, 88);
  EXPECT_EQ(c->transaction_id, "txn_A1");
}

TEST(payment_logic, event_ids_are_stable_per_attempt) {
  auto a = build_commit(sample_job(), approved());
  auto b = build_commit(sample_job(), approved());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->events[0].event_id, b->events[0].event_id);
  EXPECT_NE(a->events[0].event_id, a->events[1].event_id);
  auto other = build_commit(sample_job("pa_B2"), approved());
  EXPECT_NE(other->events[0].event_id, a->events[0].event_id);
}

TEST(payment_logic, bare_intent_has_no_session_event) {
  auto job = sample_job();
  job.session_id.clear();
  auto c = build_commit(job, approved());
  ASSERT_TRUE(c);
  ASSERT_EQ(c->events.size(), 1u);
}

TEST(payment_logic, a_decline_moves_the_card_from_the_intent_to_its_error) {
  auto c = build_commit(sample_job(), declined("insufficient_funds"));
  ASSERT_TRUE(c);
  std::map<std::string, std::string> intent;
  for (auto& u : c->updates) {
    if (u.record == "intent") {
      intent[u.field] = u.value;
    }
  }
  EXPECT_EQ(intent["status"], "requires_payment_method");
  EXPECT_EQ(intent["last_error_decline_code"], "insufficient_funds");
  // Filled in by the commit step with the card the intent named.
  EXPECT_EQ(intent["last_error_payment_method"], "$payment_method");
  ASSERT_EQ(intent.count("payment_method"), 1u);
  EXPECT_EQ(intent["payment_method"], "");
  EXPECT_TRUE(c->postings.empty());
}

TEST(payment_logic, decline_codes_map_to_stripe_error_codes) {
  EXPECT_EQ(decline_error_code("insufficient_funds"), "card_declined");
  EXPECT_EQ(decline_error_code("card_declined"), "card_declined");
  EXPECT_EQ(decline_error_code("expired_card"), "expired_card");
  EXPECT_EQ(decline_error_code("incorrect_cvc"), "incorrect_cvc");
  EXPECT_EQ(decline_error_code("processing_error"), "processing_error");
  EXPECT_EQ(decline_error_code("lost_card"), "card_declined");
  EXPECT_EQ(decline_error_code("fraudulent"), "card_declined");
}

TEST(payment_logic, transient_outcome_commits_nothing) {
  EXPECT_FALSE(build_commit(sample_job(), unknown_outcome()));
}

TEST(payment_logic, unbalanced_or_negative_postings_are_rejected) {
  EXPECT_FALSE(postings_balanced({{"a", 10, 0}, {"b", 0, 9}}));
  EXPECT_FALSE(postings_balanced({{"a", -10, 0}, {"b", 0, -10}}));
  EXPECT_TRUE(postings_balanced({}));
}

TEST(payment_logic, backoff_grows_stays_bounded_and_jitters) {
  std::minstd_rand rng{1};
  for (uint32_t retry = 0; retry < 20; ++retry) {
    auto ms = backoff_ms(retry, 100, 5'000, rng);
    EXPECT_GE(ms, 50u);
    EXPECT_LE(ms, 5'000u);
    uint64_t ceiling = std::min<uint64_t>(100ull << std::min(retry, 10u), 5'000);
    EXPECT_LE(ms, ceiling);
  }
}

TEST(payment_logic, webhook_schedule_ends_in_dead_letter) {
  std::vector<int64_t> schedule{0, 5'000, 300'000};
  EXPECT_EQ(next_delivery_ms(1'000, 1, schedule), 6'000);
  EXPECT_EQ(next_delivery_ms(1'000, 2, schedule), 301'000);
  EXPECT_EQ(next_delivery_ms(1'000, 3, schedule), -1);
  EXPECT_EQ(default_webhook_schedule_ms().size(), 10u);
}

} // namespace
} // namespace psp::test
