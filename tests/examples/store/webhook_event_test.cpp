// Checks that PSP event bodies are reduced to the fields the store acts on,
// and that bodies which are not events are refused without throwing.
#include "webhook_event.hpp"

#include <gtest/gtest.h>

using namespace store;

TEST(webhook_event, reads_a_checkout_session_completed_event) {
  auto ev = parse_webhook_event(R"({
    "id":"evt_1","object":"event","type":"checkout.session.completed",
    "created":1700000000,
    "data":{"object":{"id":"cs_test_1","object":"checkout.session",
      "client_reference_id":"ord_7","payment_intent":"pi_9",
      "payment_status":"paid","metadata":{"order_id":"ord_ignored"}}}})");
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->id, "evt_1");
  EXPECT_EQ(ev->type, "checkout.session.completed");
  EXPECT_EQ(ev->created_unix_s, 1700000000);
  EXPECT_EQ(ev->object_id, "cs_test_1");
  EXPECT_EQ(ev->order_id, "ord_7");
  EXPECT_EQ(ev->payment_intent, "pi_9");
  EXPECT_EQ(ev->payment_status, "paid");
}

TEST(webhook_event, reads_a_payment_failed_event) {
  auto ev = parse_webhook_event(R"({
    "id":"evt_2","type":"payment_intent.payment_failed","created":1,
    "data":{"object":{"id":"pi_9","object":"payment_intent",
      "metadata":{"order_id":"ord_7"},
      "last_payment_error":{"code":"card_declined",
                            "message":"Your card was declined."}}}})");
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->payment_intent, "pi_9");
  EXPECT_EQ(ev->order_id, "ord_7");
  EXPECT_EQ(ev->failure_message, "Your card was declined.");
}

TEST(webhook_event, tolerates_nulls_and_expanded_references) {
  auto ev = parse_webhook_event(R"({
    "id":"evt_3","type":"checkout.session.completed","created":null,
    "data":{"object":{"id":"cs_1","client_reference_id":null,
      "payment_intent":{"id":"pi_5"},"last_payment_error":null}}})");
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->order_id, "");
  EXPECT_EQ(ev->payment_intent, "pi_5");
  EXPECT_EQ(ev->created_unix_s, 0);
}

TEST(webhook_event, refuses_bodies_that_are_not_events) {
  for (const char* body :
       {"", "not json", "[]", "{}", R"({"id":"evt_1","type":"x"})",
        R"({"id":"evt_1","type":"x","data":{"object":"cs_1"}})",
        R"({"id":5,"type":"x","data":{"object":{}}})",
        R"({"id":"evt_1","data":{"object":{}}})",
        R"({"id":"evt_1","type":"x","data":{"object":{}})"}) {
    EXPECT_FALSE(parse_webhook_event(body)) << body;
  }
}
