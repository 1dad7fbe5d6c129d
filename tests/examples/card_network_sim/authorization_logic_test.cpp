// Goal: drive the charge, capture and void flows without HTTP (a real
// ledger and idempotency table in memory) and check their answers: the
// authorised and captured charge shapes, idempotent replays of capture and
// void, every refusal, and that no card data reaches an answer.

#include "authorization_service.hpp"
#include "idempotency_table.hpp"
#include "json_codec.hpp"
#include "ledger_book.hpp"
#include "payment_service.hpp"
#include "sim_stats.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace psp::sim;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* pan = "4242424242424242";

class AuthorizationFlows : public ::testing::Test {
protected:
  ledger_book ledger{100};
  idempotency_table keys{100, 1s};
  sim_stats stats;
  payment_service payments{ledger, keys, stats};
  authorization_service authorizations{ledger, keys, stats};

  json charge_request(bool capture, const std::string& card = pan) {
    json body{{"amount", 2000},      {"currency", "usd"},
              {"card_number", card}, {"exp_month", 12},
              {"exp_year", 2030},    {"cvc", "987"},
              {"reference", "pi_1"}, {"merchant", "acct_1"}};
    body["capture"] = capture;
    return body;
  }

  // Authorises 2000 and returns the charge id.
  std::string authorise(const std::string& key) {
    auto out = payments.charge(key, charge_request(false).dump());
    EXPECT_EQ(out.status, 200) << out.body;
    return json::parse(out.body)["id"].get<std::string>();
  }

  static std::string code(const api_response& out) {
    return json::parse(out.body)["error"]["code"].get<std::string>();
  }
};

TEST_F(AuthorizationFlows, AuthoriseOnlyAndAutoCaptureShapes) {
  auto held = payments.charge("k1", charge_request(false).dump());
  ASSERT_EQ(held.status, 200);
  auto body = json::parse(held.body);
  EXPECT_EQ(body["status"], "authorized");
  EXPECT_EQ(body["captured"], false);
  EXPECT_EQ(body["amount_captured"], 0);
  EXPECT_EQ(body["amount"], 2000);
  EXPECT_EQ(body["merchant"], "acct_1");
  EXPECT_EQ(body["idempotency_key"], "k1");
  auto captured = payments.charge("k2", charge_request(true).dump());
  body = json::parse(captured.body);
  EXPECT_EQ(body["status"], "succeeded");
  EXPECT_EQ(body["captured"], true);
  EXPECT_EQ(body["amount_captured"], 2000);
  EXPECT_EQ(stats.authorizations, 1u);
  EXPECT_EQ(stats.charges, 1u);
  EXPECT_EQ(ledger.succeeded_counts()["pi_1"], 1u);
}

TEST_F(AuthorizationFlows, DeclineBodyIsUnchanged) {
  auto out =
      payments.charge("k1", charge_request(false, "4000000000000002").dump());
  ASSERT_EQ(out.status, 402);
  auto body = json::parse(out.body);
  EXPECT_EQ(body["status"], "declined");
  EXPECT_EQ(body["decline_code"], "card_declined");
  for (const char* absent : {"captured", "amount_captured", "merchant"}) {
    EXPECT_FALSE(body.contains(absent)) << absent;
  }
}

TEST_F(AuthorizationFlows, CaptureFlagIsPartOfTheFingerprint) {
  ASSERT_EQ(payments.charge("k1", charge_request(false).dump()).status, 200);
  auto reused = payments.charge("k1", charge_request(true).dump());
  EXPECT_EQ(reused.status, 409);
  EXPECT_EQ(code(reused), "idempotency_key_reused");
}

TEST_F(AuthorizationFlows, CaptureReplaysAndRefusesASecondCapture) {
  auto id = authorise("k-auth");
  auto first = authorizations.capture("c1", id, R"({"amount":1500})");
  ASSERT_EQ(first.status, 200) << first.body;
  auto body = json::parse(first.body);
  EXPECT_EQ(body["status"], "succeeded");
  EXPECT_EQ(body["captured"], true);
  EXPECT_EQ(body["amount"], 2000);
  EXPECT_EQ(body["amount_captured"], 1500);
  auto replay = authorizations.capture("c1", id, R"({"amount":1500})");
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.status, 200);
  EXPECT_EQ(replay.body, first.body);
  auto second = authorizations.capture("c2", id, "");
  EXPECT_EQ(second.status, 400);
  EXPECT_EQ(code(second), "charge_already_captured");
  EXPECT_EQ(code(authorizations.void_charge("v1", id)),
            "charge_already_captured");
  auto reused = authorizations.capture("c1", id, "");
  EXPECT_EQ(reused.status, 409);
  EXPECT_EQ(stats.captures, 1u);
  EXPECT_EQ(ledger.succeeded_counts()["pi_1"], 1u);
}

TEST_F(AuthorizationFlows, CaptureRefusals) {
  auto id = authorise("k-auth");
  auto too_large = authorizations.capture("c1", id, R"({"amount":2001})");
  EXPECT_EQ(too_large.status, 400);
  EXPECT_EQ(code(too_large), "amount_too_large");
  EXPECT_TRUE(authorizations.capture("c1", id, R"({"amount":2001})").replayed);
  auto missing = authorizations.capture("c2", "ch_nope", "");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(code(missing), "charge_not_found");
  auto declined = json::parse(
      payments.charge("k-d", charge_request(false, "4000000000009995").dump())
          .body)["id"];
  EXPECT_EQ(code(authorizations.capture("c3", declined, "")),
            "charge_declined");
  // Validation failures do not consume the key.
  EXPECT_EQ(code(authorizations.capture("", id, "")),
            "missing_idempotency_key");
  EXPECT_EQ(code(authorizations.capture("c4", id, R"({"amount":0})")),
            "invalid_request");
  EXPECT_EQ(code(authorizations.capture("c4", std::string(256, 'c'), "")),
            "invalid_request");
  EXPECT_EQ(authorizations.capture("c4", id, "").status, 200);
  // A key from another endpoint is not a capture key.
  EXPECT_EQ(code(authorizations.capture("k-auth", id, "")),
            "idempotency_key_reused");
}

TEST_F(AuthorizationFlows, VoidReplaysAndBlocksCapture) {
  auto id = authorise("k-auth");
  auto voided = authorizations.void_charge("v1", id);
  ASSERT_EQ(voided.status, 200) << voided.body;
  auto body = json::parse(voided.body);
  EXPECT_EQ(body["status"], "voided");
  EXPECT_EQ(body["captured"], false);
  EXPECT_EQ(body["amount_captured"], 0);
  auto replay = authorizations.void_charge("v1", id);
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.body, voided.body);
  EXPECT_EQ(code(authorizations.void_charge("v2", id)), "charge_voided");
  EXPECT_EQ(code(authorizations.capture("c1", id, "")), "charge_voided");
  EXPECT_EQ(code(authorizations.void_charge("v3", "ch_nope")),
            "charge_not_found");
  EXPECT_EQ(stats.voids, 1u);
  EXPECT_TRUE(ledger.succeeded_counts().empty());
  EXPECT_TRUE(ledger.settlement().empty());
}

TEST_F(AuthorizationFlows, NoCardDataInAnyAnswer) {
  auto id = authorise("k-auth");
  std::vector<api_response> answers{
      payments.charge("k-auth", charge_request(false).dump()),
      authorizations.capture("c1", id, ""),
      authorizations.void_charge("v1", id),
  };
  for (const auto& out : answers) {
    EXPECT_EQ(out.body.find(pan), std::string::npos) << out.body;
    EXPECT_EQ(out.body.find("cvc"), std::string::npos) << out.body;
  }
  for (const auto& charge : ledger.charges()) {
    auto row = dump_json(charge_row(charge));
    EXPECT_EQ(row.find(pan), std::string::npos);
    EXPECT_EQ(row.find("cvc"), std::string::npos);
  }
}

} // namespace
