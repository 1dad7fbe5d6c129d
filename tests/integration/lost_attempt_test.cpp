// Goal: a hosted-page payment that Redis lost without any node seeing it (a
// replica promoted a few hundred milliseconds behind, a restore younger
// than the continuity watch's last increment: decision 67's open limit) is
// not charged a second time when the shopper pays the reopened checkout
// again. Each attempt is named at the card network by its session and
// ordinal (decision 70), so the attempt paid after the loss carries the lost
// one's key: the same card gets the network's first answer back; another
// card is refused by the network, and the checkout takes no card after it
// (under a new key it would be the second payment); the operator is told.
//
// The loss is made by hand: every key but the continuity marker (`psp:*`)
// is put back as it was before the payment, which is what the nodes would
// see of a Redis that went back by less than they can notice.

#include "tests/support/psp_stack.hpp"

#include <gtest/gtest.h>

#include <map>

namespace psp::test {
namespace {

using key_dumps = std::map<std::string, std::string>;

bool marker_key(const std::string& key) { return key.rfind("psp:", 0) == 0; }

/// DUMP of every key but the continuity marker.
key_dumps snapshot(psp_stack& stack) {
  key_dumps out;
  for (auto& key : stack.redis_keys("*")) {
    if (marker_key(key)) {
      continue;
    }
    auto dumped = stack.redis_cmd({"DUMP", key});
    if (dumped && dumped->kind == redis_reply::string) {
      out[key] = dumped->str;
    }
  }
  return out;
}

/// Puts every key but the marker back as `before` had it: later keys go,
/// the others are restored with their old values.
void roll_back(psp_stack& stack, const key_dumps& before) {
  for (auto& key : stack.redis_keys("*")) {
    if (!marker_key(key) && before.count(key) == 0) {
      ASSERT_TRUE(stack.redis_cmd({"DEL", key}));
    }
  }
  for (auto& [key, dumped] : before) {
    auto restored = stack.redis_cmd({"RESTORE", key, "0", dumped, "REPLACE"});
    ASSERT_TRUE(restored && restored->ok()) << key;
  }
}

/// A checkout paid with the test card, then lost: Redis put back as it was
/// before the payment, unseen by the nodes (its form is offered again).
struct lost_payment {
  std::string session_id;
  std::string intent_id;
};

lost_payment pay_then_lose(psp_stack& stack) {
  auto session = stack.create_session(2500);
  lost_payment out{session.at("id"), session.at("payment_intent")};
  auto before = snapshot(stack);
  EXPECT_EQ(stack.pay(out.session_id).status, 303);
  EXPECT_EQ(stack.wait_for_outcome(out.session_id)["payment_status"], "paid");
  EXPECT_EQ(stack.sim_charge_count(out.intent_id), 1);
  roll_back(stack, before);
  auto page = http_get(stack.node_url(), "/pay/" + out.session_id);
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("name=\"nonce\""), std::string::npos)
    << "the loss was seen: this test tests nothing";
  return out;
}

TEST(lost_attempt, the_same_card_again_gets_the_networks_first_answer) {
  psp_stack stack;
  auto replays_before = stack.sim_stats().value("replays", 0);
  auto lost = pay_then_lose(stack);
  ASSERT_FALSE(::testing::Test::HasFailure());

  // The shopper, back on the reopened page, pays with the same card.
  ASSERT_EQ(stack.pay(lost.session_id).status, 303);
  EXPECT_EQ(stack.wait_for_outcome(lost.session_id)["payment_status"], "paid");
  EXPECT_EQ(stack.sim_charge_count(lost.intent_id), 1)
    << "the card was charged again for the payment Redis lost";
  EXPECT_EQ(stack.sim_stats().value("replays", 0), replays_before + 1);
  EXPECT_TRUE(stack.dead_letters_of("payment").empty());
  EXPECT_TRUE(stack.ledger_balanced());
}

TEST(lost_attempt, another_card_is_refused_and_the_checkout_takes_no_more) {
  psp_stack stack;
  auto lost = pay_then_lose(stack);
  ASSERT_FALSE(::testing::Test::HasFailure());

  card_input other;
  other.number = "5555555555554444";
  ASSERT_EQ(stack.pay(lost.session_id, other).status, 303);
  auto outcome = stack.wait_for_outcome(lost.session_id);
  EXPECT_EQ(outcome.value("intent_status", ""), "requires_payment_method")
    << outcome.dump();
  EXPECT_EQ(outcome.value("attempts_left", -1), 0) << outcome.dump();
  EXPECT_NE(outcome.value("closed_message", "").find("contact the store"),
            std::string::npos)
    << outcome.dump();
  EXPECT_EQ(stack.sim_charge_count(lost.intent_id), 1);
  // The store hears it as a decline it can act on.
  auto intent = stack.api_get("/v1/payment_intents/" + lost.intent_id)
                  .body_json();
  EXPECT_EQ(intent["last_payment_error"].value("decline_code", ""),
            "duplicate_transaction")
    << intent.dump();

  // No card is taken under a new key: that would be the second payment.
  auto page = http_get(stack.node_url(), "/pay/" + lost.session_id);
  EXPECT_EQ(page.status, 409);
  EXPECT_EQ(page.body.find("name=\"nonce\""), std::string::npos);
  card_input third;
  third.number = "4000056655665556"; // a Visa debit test card
  auto refused = stack.pay(lost.session_id, third, 0, "aFreshNonceForTheTest1");
  EXPECT_NE(refused.status, 303) << refused.body;
  EXPECT_EQ(stack.sim_charge_count(lost.intent_id), 1);

  // The operator is told, without a card number.
  ASSERT_TRUE(stack.wait_for_log(0, "event=network_key_conflict", 5s));
  auto log = tail_file(stack.node_log(0), 400);
  EXPECT_NE(log.find(lost.session_id + ":page_attempt:1"), std::string::npos);
  EXPECT_EQ(log.find("5555555555554444"), std::string::npos);
  auto metrics = http_get(stack.node_url(), "/metrics").body;
  EXPECT_NE(metrics.find("\npsp_card_network_key_conflicts_total 1\n"),
            std::string::npos);
  EXPECT_TRUE(stack.dead_letters_of("payment").empty());

  // The merchant ends it (the fifth re-test: the count came back after).
  auto expired = stack.api_post(
    "/v1/checkout/sessions/" + lost.session_id + "/expire", {});
  EXPECT_EQ(expired.status, 200) << expired.body;
  auto after = stack.payment_status(lost.session_id);
  EXPECT_EQ(after.value("status", ""), "expired") << after.dump();
  EXPECT_EQ(after.value("attempts_left", -1), 0) << after.dump();
}

/// The intent's status once it is `want` (bounded), or the last one seen.
std::string wait_intent_status(psp_stack& stack, const std::string& id,
                               const std::string& want) {
  std::string status;
  wait_until(
    [&] {
      status = stack.api_get("/v1/payment_intents/" + id)
                 .body_json()
                 .value("status", "");
      return status == want;
    },
    10s, 50ms);
  return status;
}

TEST(lost_attempt, a_lost_capture_is_not_mended_but_is_told) {
  // What a replay cannot do (decision 70's limits): the network answers
  // the authorisation it gave first, though it has captured the charge
  // since. The intent stays authorised; the node says the network moved on.
  psp_stack stack;
  auto session = stack.create_session(
    2500, 1, {{"payment_intent_data[capture_method]", "manual"}});
  std::string session_id = session.at("id");
  std::string intent_id = session.at("payment_intent");
  auto before = snapshot(stack);
  ASSERT_EQ(stack.pay(session_id).status, 303);
  ASSERT_EQ(wait_intent_status(stack, intent_id, "requires_capture"),
            "requires_capture");
  ASSERT_EQ(stack.api_post("/v1/payment_intents/" + intent_id + "/capture", {})
              .status,
            200);
  ASSERT_EQ(wait_intent_status(stack, intent_id, "succeeded"), "succeeded");
  roll_back(stack, before);

  ASSERT_EQ(stack.pay(session_id).status, 303);
  EXPECT_EQ(wait_intent_status(stack, intent_id, "requires_capture"),
            "requires_capture");
  EXPECT_EQ(stack.sim_charge_count(intent_id), 1) << "no second authorisation";
  auto capture =
    stack.api_post("/v1/payment_intents/" + intent_id + "/capture", {});
  EXPECT_EQ(capture.status, 400) << capture.body;
  EXPECT_EQ(capture.body_json()["error"].value("code", ""),
            "charge_already_captured")
    << capture.body;
  EXPECT_TRUE(stack.wait_for_log(0, "event=network_charge_ahead", 10s));
  EXPECT_NE(tail_file(stack.node_log(0), 400)
              .find("decline_code=charge_already_captured"),
            std::string::npos);
  EXPECT_EQ(stack.sim_charge_count(intent_id), 1);
}

} // namespace
} // namespace psp::test
