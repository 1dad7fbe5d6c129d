// Goal: a hosted-page payment that Redis lost without any node seeing it (a
// replica promoted a few hundred milliseconds behind, a restore younger
// than the continuity watch's last increment: decision 67's open limit) is
// not charged a second time when the shopper pays the reopened checkout
// again. Each attempt is named at the card network by its session and
// ordinal (decision 70), so the attempt paid after the loss carries the lost
// one's key: the same card gets the network's first answer back; another
// card is refused by the network and the payment goes to the dead-letter
// queue for an operator instead of being charged.
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

TEST(lost_attempt, another_card_is_dead_lettered_not_charged) {
  psp_stack stack;
  auto lost = pay_then_lose(stack);
  ASSERT_FALSE(::testing::Test::HasFailure());

  card_input other;
  other.number = "5555555555554444";
  ASSERT_EQ(stack.pay(lost.session_id, other).status, 303);
  auto dead = stack.wait_for_dead_letters("payment", 15s);
  ASSERT_EQ(dead.size(), 1u)
    << "the network's refusal was retried instead of handed to an operator";
  EXPECT_EQ(dead[0].value("intent", ""), lost.intent_id) << dead[0].dump();
  auto entry = dead[0].dump();
  EXPECT_NE(entry.find(lost.session_id + ":page_attempt:1"), std::string::npos)
    << entry;
  EXPECT_NE(entry.find("not retried"), std::string::npos) << entry;
  EXPECT_EQ(entry.find("5555555555554444"), std::string::npos);
  EXPECT_EQ(stack.sim_charge_count(lost.intent_id), 1);
  // No second card is charged behind the operator's back.
  EXPECT_EQ(stack.payment_status(lost.session_id).value("intent_status", ""),
            "processing");
}

} // namespace
} // namespace psp::test
