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
#include <set>

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

std::string intent_of(psp_stack& stack, const std::string& session_id) {
  return stack.redis_hash("cs:" + session_id)["intent"];
}

/// The session's form is offered again: nothing saw the loss.
void expect_form_offered(psp_stack& stack, const std::string& session_id) {
  auto page = http_get(stack.node_url(), "/pay/" + session_id);
  ASSERT_EQ(page.status, 200) << page.body;
  ASSERT_NE(page.body.find("name=\"nonce\""), std::string::npos)
    << "the loss was seen: this test tests nothing";
}

TEST(lost_attempt, the_same_card_again_gets_the_networks_first_answer) {
  psp_stack stack;
  auto session = stack.create_session(2500);
  std::string session_id = session.at("id");
  auto before = snapshot(stack);
  ASSERT_EQ(stack.pay(session_id).status, 303);
  ASSERT_EQ(stack.wait_for_outcome(session_id)["payment_status"], "paid");
  auto intent = intent_of(stack, session_id);
  ASSERT_EQ(stack.sim_charge_count(intent), 1);
  auto replays_before = stack.sim_stats().value("replays", 0);

  roll_back(stack, before);
  expect_form_offered(stack, session_id);

  // The shopper, back on the reopened page, pays with the same card.
  ASSERT_EQ(stack.pay(session_id).status, 303);
  EXPECT_EQ(stack.wait_for_outcome(session_id)["payment_status"], "paid");
  EXPECT_EQ(stack.sim_charge_count(intent), 1)
    << "the card was charged again for the payment Redis lost";
  EXPECT_EQ(stack.sim_stats().value("replays", 0), replays_before + 1);
  EXPECT_TRUE(stack.dead_letters_of("payment").empty());
  EXPECT_TRUE(stack.ledger_balanced());
}

TEST(lost_attempt, another_card_is_dead_lettered_not_charged) {
  psp_stack stack;
  auto session = stack.create_session(2500);
  std::string session_id = session.at("id");
  auto before = snapshot(stack);
  ASSERT_EQ(stack.pay(session_id).status, 303);
  ASSERT_EQ(stack.wait_for_outcome(session_id)["payment_status"], "paid");
  auto intent = intent_of(stack, session_id);

  roll_back(stack, before);
  expect_form_offered(stack, session_id);

  card_input other;
  other.number = "5555555555554444";
  ASSERT_EQ(stack.pay(session_id, other).status, 303);
  std::vector<json> dead;
  ASSERT_TRUE(wait_until(
    [&] {
      dead = stack.dead_letters_of("payment");
      return !dead.empty();
    },
    15s, 50ms))
    << "the network's refusal was retried instead of handed to an operator";
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].value("intent", ""), intent) << dead[0].dump();
  auto reason = dead[0].dump();
  EXPECT_NE(reason.find(session_id + ":page_attempt:1"), std::string::npos)
    << reason;
  EXPECT_NE(reason.find("not retried"), std::string::npos) << reason;
  EXPECT_EQ(reason.find("5555555555554444"), std::string::npos);
  EXPECT_EQ(stack.sim_charge_count(intent), 1);
  // No second card is charged behind the operator's back.
  EXPECT_EQ(stack.payment_status(session_id).value("intent_status", ""),
            "processing");
}

} // namespace
} // namespace psp::test
