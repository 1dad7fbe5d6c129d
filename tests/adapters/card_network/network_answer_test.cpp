// Goal: every answer the card network may send maps to approved, declined
// for good, or unknown (asked again), and a malformed one never throws:
// an exception in the card client's handler would take the actor down.

#include "adapters/card_network/network_answer.hpp"

#include <gtest/gtest.h>

namespace {

using psp::charge_outcome;
using psp::payment_op;
using psp::card::interpret_network_answer;

TEST(network_answer, approved_and_declined_charges) {
  auto ok = interpret_network_answer(200, R"({"id":"ch_1","status":"ok"})", "",
                                     payment_op::charge);
  EXPECT_EQ(ok.outcome, charge_outcome::approved);
  EXPECT_EQ(ok.charge_id, "ch_1");
  auto no = interpret_network_answer(
      402,
      R"({"id":"ch_2","decline_code":"insufficient_funds","message":"No."})",
      "", payment_op::charge);
  EXPECT_EQ(no.outcome, charge_outcome::declined);
  EXPECT_EQ(no.charge_id, "ch_2");
  EXPECT_EQ(no.decline_code, "insufficient_funds");
  EXPECT_EQ(no.message, "No.");
}

TEST(network_answer, a_refused_follow_up_is_final_only_for_follow_ups) {
  auto body = R"({"error":{"code":"already_captured","message":"Done."}})";
  for (auto op : {payment_op::capture, payment_op::void_auth,
                  payment_op::refund}) {
    auto r = interpret_network_answer(400, body, "", op);
    EXPECT_EQ(r.outcome, charge_outcome::declined);
    EXPECT_EQ(r.decline_code, "already_captured");
    EXPECT_EQ(interpret_network_answer(404, body, "", op).outcome,
              charge_outcome::declined);
  }
  EXPECT_EQ(interpret_network_answer(400, body, "", payment_op::charge).outcome,
            charge_outcome::transient);
}

TEST(network_answer, no_answer_or_an_unexpected_one_is_unknown) {
  auto none = interpret_network_answer(0, "", "timed out", payment_op::charge);
  EXPECT_EQ(none.outcome, charge_outcome::transient);
  EXPECT_NE(none.message.find("timed out"), std::string::npos);
  for (int status : {500, 503, 409, 302}) {
    EXPECT_EQ(interpret_network_answer(status, R"({"id":"ch_1"})", "",
                                       payment_op::charge)
                  .outcome,
              charge_outcome::transient)
        << status;
  }
  // A 200 or 402 whose body is not a JSON object: unknown, not guessed.
  for (auto body : {"", "not json", "[]", "null", "\"ok\""}) {
    EXPECT_EQ(
        interpret_network_answer(200, body, "", payment_op::charge).outcome,
        charge_outcome::transient)
        << body;
    EXPECT_EQ(
        interpret_network_answer(402, body, "", payment_op::charge).outcome,
        charge_outcome::transient)
        << body;
  }
}

TEST(network_answer, a_key_taken_by_other_parameters_is_a_conflict) {
  // Taken for good: nothing waits out twenty tries for it. The request was
  // not carried out, so a card attempt is refused (decision 70).
  auto reused = R"({"error":{"code":"idempotency_key_reused","message":"x"}})";
  for (auto op : {payment_op::charge, payment_op::authorize}) {
    auto taken = interpret_network_answer(409, reused, "", op);
    EXPECT_EQ(taken.outcome, charge_outcome::declined);
    EXPECT_EQ(taken.decline_code, "duplicate_transaction");
    EXPECT_TRUE(taken.key_conflict);
  }
  // A follow-up's outcome is another matter: an operator looks.
  auto capture = interpret_network_answer(409, reused, "", payment_op::capture);
  EXPECT_EQ(capture.outcome, charge_outcome::transient);
  EXPECT_TRUE(capture.key_conflict);
  // Busy clears by itself; other 409s are unknown as before.
  for (auto body : {R"({"error":{"code":"idempotency_key_in_use"}})",
                    R"({"error":"idempotency_key_reused"})", "{}", ""}) {
    auto busy = interpret_network_answer(409, body, "", payment_op::charge);
    EXPECT_EQ(busy.outcome, charge_outcome::transient) << body;
    EXPECT_FALSE(busy.key_conflict) << body;
  }
}

TEST(network_answer, fields_of_the_wrong_type_read_as_absent) {
  auto ok = interpret_network_answer(200, R"({"id":null})", "",
                                     payment_op::charge);
  EXPECT_EQ(ok.outcome, charge_outcome::approved);
  EXPECT_EQ(ok.charge_id, "");
  auto no = interpret_network_answer(
      402, R"({"id":7,"decline_code":null,"message":["x"]})", "",
      payment_op::authorize);
  EXPECT_EQ(no.outcome, charge_outcome::declined);
  EXPECT_EQ(no.charge_id, "");
  EXPECT_EQ(no.decline_code, "card_declined");
  EXPECT_EQ(no.message, "Your card was declined.");
  auto refused = interpret_network_answer(
      400, R"({"error":{"code":false,"message":null}})", "",
      payment_op::refund);
  EXPECT_EQ(refused.outcome, charge_outcome::declined);
  EXPECT_EQ(refused.decline_code, "network_refused");
  // An error that is not an object is not a refusal: unknown.
  EXPECT_EQ(interpret_network_answer(400, R"({"error":"gone"})", "",
                                     payment_op::capture)
                .outcome,
            charge_outcome::transient);
}

} // namespace
