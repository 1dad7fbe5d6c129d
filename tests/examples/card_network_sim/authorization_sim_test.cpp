// Goal: prove over real HTTP that card-network-sim authorises without
// capturing, captures an authorisation exactly once (fully or partly, with
// idempotent replays), voids it, refuses every invalid transition with its
// Stripe-like code, bounds refunds by the captured amount and counts a
// capture once in /admin/charge_counts, all without echoing card data.

#include "sim_fixture.hpp"

#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace {

using namespace psp::sim_test;

constexpr const char* visa = "4242424242424242";

class AuthorizationSimTest : public SimTest {};

TEST_F(AuthorizationSimTest, AuthoriseOnlyHoldsWithoutCapturing) {
  auto res = charge("k-auth", auth_body(visa, 2000, "pi_a"));
  ASSERT_EQ(res.status, 200) << res.raw;
  EXPECT_EQ(res.body["status"], "authorized");
  EXPECT_EQ(res.body["captured"], false);
  EXPECT_EQ(res.body["amount_captured"], 0);
  EXPECT_EQ(res.body["amount"], 2000);
  EXPECT_EQ(res.body["currency"], "usd");
  EXPECT_EQ(res.body["reference"], "pi_a");
  EXPECT_EQ(res.body["merchant"], "acct_test");
  EXPECT_EQ(res.body["idempotency_key"], "k-auth");
  EXPECT_EQ(res.body["brand"], "visa");
  EXPECT_EQ(res.body["last4"], "4242");
  EXPECT_EQ(res.body["id"].get<std::string>().rfind("ch_", 0), 0u);
  EXPECT_EQ(counts(), json::object());
  EXPECT_EQ(settlement()["lines"], json::array());
  EXPECT_EQ(charge_rows()[0]["status"], "authorized");
  auto replay = charge("k-auth", auth_body(visa, 2000, "pi_a"));
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.raw, res.raw);
  // "capture": true behaves exactly like no flag.
  auto explicit_capture = charge_body(visa, 300, "pi_b");
  explicit_capture["capture"] = true;
  auto captured = charge("k-cap", explicit_capture);
  ASSERT_EQ(captured.status, 200);
  EXPECT_EQ(captured.body["status"], "succeeded");
  EXPECT_EQ(captured.body["captured"], true);
  EXPECT_EQ(captured.body["amount_captured"], 300);
  EXPECT_EQ(counts(), json({{"pi_b", 1}}));
}

TEST_F(AuthorizationSimTest, DeclinedAuthorisationIsTheUsual402) {
  auto res = charge("k-d", auth_body("4000000000000002", 2000, "pi_d"));
  ASSERT_EQ(res.status, 402) << res.raw;
  EXPECT_EQ(res.body["status"], "declined");
  EXPECT_EQ(res.body["decline_code"], "card_declined");
  EXPECT_FALSE(res.body.contains("captured"));
  auto id = res.body["id"].get<std::string>();
  auto capture_declined = capture("c-d", id);
  EXPECT_EQ(capture_declined.status, 400);
  EXPECT_EQ(capture_declined.body["error"]["code"], "charge_declined");
  auto void_declined = void_charge("v-d", id);
  EXPECT_EQ(void_declined.status, 400);
  EXPECT_EQ(void_declined.body["error"]["code"], "charge_declined");
  EXPECT_EQ(counts(), json::object());
}

TEST_F(AuthorizationSimTest, CaptureFlagIsPartOfTheIdempotencyFingerprint) {
  ASSERT_EQ(charge("k-fp", auth_body(visa)).status, 200);
  auto reused = charge("k-fp", charge_body(visa));
  EXPECT_EQ(reused.status, 409);
  EXPECT_EQ(reused.body["error"]["code"], "idempotency_key_reused");
  auto bad = auth_body(visa);
  bad["capture"] = "no";
  auto invalid = charge("k-bad", bad);
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(invalid.body["error"]["code"], "invalid_request");
  EXPECT_EQ(recorded_charges(), 1u);
}

TEST_F(AuthorizationSimTest, FullCaptureCountsOnceAndReplaysByteForByte) {
  auto id = authorise("k-auth", 2000, "pi_full");
  auto first = capture("c1", id);
  ASSERT_EQ(first.status, 200) << first.raw;
  EXPECT_FALSE(first.replayed);
  EXPECT_EQ(first.body["id"], id);
  EXPECT_EQ(first.body["status"], "succeeded");
  EXPECT_EQ(first.body["captured"], true);
  EXPECT_EQ(first.body["amount"], 2000);
  EXPECT_EQ(first.body["amount_captured"], 2000);
  EXPECT_EQ(first.body["currency"], "usd");
  EXPECT_EQ(first.body["reference"], "pi_full");
  EXPECT_EQ(first.body["merchant"], "acct_test");
  EXPECT_EQ(counts(), json({{"pi_full", 1}}));
  auto replay = capture("c1", id);
  EXPECT_EQ(replay.status, 200);
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.raw, first.raw);
  auto again = capture("c2", id);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.body["error"]["code"], "charge_already_captured");
  EXPECT_FALSE(again.replayed);
  // The refusal was stored under c2 like any executed answer.
  EXPECT_TRUE(capture("c2", id).replayed);
  EXPECT_EQ(counts(), json({{"pi_full", 1}}));
  auto rows = charge_rows();
  EXPECT_EQ(rows[0]["status"], "succeeded");
  EXPECT_EQ(rows[0]["amount_captured"], 2000);
}

TEST_F(AuthorizationSimTest, PartialCaptureReleasesTheRest) {
  auto id = authorise("k-auth", 2000, "pi_part");
  auto part = capture("c1", id, R"({"amount":1500})");
  ASSERT_EQ(part.status, 200) << part.raw;
  EXPECT_EQ(part.body["amount"], 2000);
  EXPECT_EQ(part.body["amount_captured"], 1500);
  auto rest = capture("c2", id, R"({"amount":500})");
  EXPECT_EQ(rest.status, 400);
  EXPECT_EQ(rest.body["error"]["code"], "charge_already_captured");
  // Same key, other amount: a different request.
  EXPECT_EQ(capture("c1", id, R"({"amount":1000})").status, 409);
  EXPECT_EQ(capture("c1", id).status, 409);
  auto over = refund("r1", id, 1501);
  EXPECT_EQ(over.status, 400);
  EXPECT_EQ(over.body["error"]["code"], "amount_too_large");
  auto ok = refund("r2", id, 1500);
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(ok.body["id"].get<std::string>().rfind("re_", 0), 0u);
  EXPECT_EQ(ok.body["status"], "succeeded");
  EXPECT_EQ(ok.body["amount"], 1500);
  EXPECT_EQ(ok.body["charge"], id);
  EXPECT_EQ(ok.body["currency"], "usd");
  EXPECT_EQ(refund("r3", id, 1).status, 400);
  EXPECT_EQ(counts(), json({{"pi_part", 1}}));
}

TEST_F(AuthorizationSimTest, CaptureRefusalsAndValidation) {
  auto id = authorise("k-auth");
  auto too_large = capture("c1", id, R"({"amount":2001})");
  EXPECT_EQ(too_large.status, 400);
  EXPECT_EQ(too_large.body["error"]["code"], "amount_too_large");
  auto missing = capture("c2", "ch_doesnotexist");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body["error"]["code"], "charge_not_found");
  auto no_key = capture("", id);
  EXPECT_EQ(no_key.status, 400);
  EXPECT_EQ(no_key.body["error"]["code"], "missing_idempotency_key");
  for (const char* bad : {R"({"amount":0})", R"({"amount":"5"})", "[1]",
                          R"({"amount":1.5})", "not json"}) {
    auto res = capture("c3", id, bad);
    EXPECT_EQ(res.status, 400) << bad;
    EXPECT_EQ(res.body["error"]["code"], "invalid_request") << bad;
  }
  // A key used to charge cannot capture.
  EXPECT_EQ(capture("k-auth", id).body["error"]["code"],
            "idempotency_key_reused");
  // The rejected attempts captured nothing and c3 was not consumed.
  EXPECT_EQ(counts(), json::object());
  auto ok = capture("c3", id, R"({"amount":2000})");
  EXPECT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(counts(), json({{"pi_1", 1}}));
}

TEST_F(AuthorizationSimTest, VoidReleasesAndReplays) {
  auto id = authorise("k-auth", 2000, "pi_void");
  auto voided = void_charge("v1", id);
  ASSERT_EQ(voided.status, 200) << voided.raw;
  EXPECT_EQ(voided.body["id"], id);
  EXPECT_EQ(voided.body["status"], "voided");
  EXPECT_EQ(voided.body["captured"], false);
  EXPECT_EQ(voided.body["amount_captured"], 0);
  EXPECT_EQ(voided.body["amount"], 2000);
  EXPECT_EQ(voided.body["reference"], "pi_void");
  auto replay = void_charge("v1", id);
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.status, 200);
  EXPECT_EQ(replay.raw, voided.raw);
  auto twice = void_charge("v2", id);
  EXPECT_EQ(twice.status, 400);
  EXPECT_EQ(twice.body["error"]["code"], "charge_voided");
  auto after = capture("c1", id);
  EXPECT_EQ(after.status, 400);
  EXPECT_EQ(after.body["error"]["code"], "charge_voided");
  EXPECT_EQ(refund("r1", id, 1).body["error"]["code"], "amount_too_large");
  EXPECT_EQ(counts(), json::object());
  EXPECT_EQ(settlement()["lines"], json::array());
  EXPECT_EQ(charge_rows()[0]["status"], "voided");
}

TEST_F(AuthorizationSimTest, VoidRefusals) {
  auto captured = charge("k-cap", charge_body(visa));
  auto id = captured.body["id"].get<std::string>();
  auto res = void_charge("v1", id);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.body["error"]["code"], "charge_already_captured");
  auto manual = authorise("k-auth", 700, "pi_m");
  ASSERT_EQ(capture("c1", manual).status, 200);
  EXPECT_EQ(void_charge("v2", manual).body["error"]["code"],
            "charge_already_captured");
  auto missing = void_charge("v3", "ch_doesnotexist");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body["error"]["code"], "charge_not_found");
  EXPECT_EQ(void_charge("", id).body["error"]["code"],
            "missing_idempotency_key");
  EXPECT_EQ(counts(), json({{"pi_1", 1}, {"pi_m", 1}}));
}

TEST_F(AuthorizationSimTest, RacingCapturesAndVoidsChangeTheChargeOnce) {
  auto id = authorise("k-auth", 900, "pi_race");
  constexpr int threads_count = 12;
  std::vector<http_result> results(threads_count);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < threads_count; ++i) {
    threads.emplace_back([&, i] {
      while (!go) {
        std::this_thread::yield();
      }
      auto key = "race-" + std::to_string(i);
      results[i] = i % 3 == 0 ? void_charge(key, id) : capture(key, id);
    });
  }
  go = true;
  for (auto& t : threads) {
    t.join();
  }
  int winners = 0;
  for (const auto& r : results) {
    if (r.status == 200) {
      ++winners;
    } else {
      EXPECT_EQ(r.status, 400) << r.raw;
    }
  }
  EXPECT_EQ(winners, 1);
  auto status = charge_rows()[0]["status"];
  auto lines = settlement()["lines"];
  if (status == "succeeded") {
    EXPECT_EQ(counts(), json({{"pi_race", 1}}));
    EXPECT_EQ(lines.size(), 1u);
  } else {
    EXPECT_EQ(status, "voided");
    EXPECT_EQ(counts(), json::object());
    EXPECT_EQ(lines.size(), 0u);
  }
}

TEST_F(AuthorizationSimTest, ErrorAfterCaptureStoresTheRealOutcome) {
  auto id = authorise("k-auth", 2000, "pi_lost");
  set_faults({{"error_after_charge_rate", 1.0}});
  auto lost = capture("c1", id);
  EXPECT_EQ(lost.status, 500);
  EXPECT_EQ(lost.body["error"]["code"], "network_error");
  EXPECT_EQ(counts(), json({{"pi_lost", 1}}));
  set_faults({{"error_after_charge_rate", 0.0}});
  auto retry = capture("c1", id);
  ASSERT_EQ(retry.status, 200) << retry.raw;
  EXPECT_TRUE(retry.replayed);
  EXPECT_EQ(retry.body["amount_captured"], 2000);
  EXPECT_EQ(counts(), json({{"pi_lost", 1}}));
  set_faults({{"error_rate", 1.0}});
  auto unavailable = void_charge("v1", id);
  EXPECT_EQ(unavailable.status, 503);
  set_faults({{"error_rate", 0.0}});
  // The 503 executed nothing, so v1 is still free.
  auto refused = void_charge("v1", id);
  EXPECT_FALSE(refused.replayed);
  EXPECT_EQ(refused.body["error"]["code"], "charge_already_captured");
}

TEST_F(AuthorizationSimTest, StatsCountAuthorisationsCapturesAndVoids) {
  auto a = authorise("k-a");
  auto b = authorise("k-b");
  charge("k-c", charge_body(visa));
  capture("c1", a);
  capture("c1", a);
  void_charge("v1", b);
  auto stats = get(port(), "/admin/stats").body;
  EXPECT_EQ(stats["authorizations"], 2);
  EXPECT_EQ(stats["charges"], 1);
  EXPECT_EQ(stats["captures"], 1);
  EXPECT_EQ(stats["voids"], 1);
  EXPECT_EQ(stats["replays"], 1);
  EXPECT_EQ(stats["requests"], 6);
}

TEST_F(AuthorizationSimTest, CardDataIsNeverEchoedStoredOrLogged) {
  auto id = authorise("k-auth");
  std::vector<http_result> answers{charge("k-auth", auth_body(visa)),
                                   capture("c1", id), void_charge("v1", id),
                                   get(port(), "/admin/charges"),
                                   get(port(), "/admin/settlement")};
  for (const auto& a : answers) {
    EXPECT_EQ(a.raw.find(visa), std::string::npos) << a.raw;
    EXPECT_EQ(a.raw.find("cvc"), std::string::npos) << a.raw;
  }
  EXPECT_EQ(log_text().find(visa), std::string::npos);
}

} // namespace
