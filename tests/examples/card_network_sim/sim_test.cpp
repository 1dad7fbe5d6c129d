// Goal: prove over real HTTP that card-network-sim charges, declines,
// refunds and settles like a card network, never executes an idempotency key
// twice (even concurrently or across injected faults), and starts and stops
// like a well-behaved process.

#include "sim_fixture.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <optional>
#include <set>
#include <sys/wait.h>

namespace {

using namespace psp::sim_test;
using namespace std::chrono_literals;

TEST_F(SimTest, SuccessfulChargeAnswersWithBrandAndLast4Only) {
  auto res = charge("k-success", charge_body("4242424242424242"));
  ASSERT_EQ(res.status, 200) << res.raw;
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(res.body["status"], "succeeded");
  EXPECT_EQ(res.body["id"].get<std::string>().rfind("ch_", 0), 0u);
  EXPECT_EQ(res.body["amount"], 2000);
  EXPECT_EQ(res.body["currency"], "usd");
  EXPECT_EQ(res.body["reference"], "pi_1");
  EXPECT_EQ(res.body["idempotency_key"], "k-success");
  EXPECT_EQ(res.body["brand"], "visa");
  EXPECT_EQ(res.body["last4"], "4242");
  EXPECT_EQ(res.body["captured"], true);
  EXPECT_EQ(res.body["amount_captured"], 2000);
  EXPECT_EQ(res.body["merchant"], "acct_test");
  EXPECT_GT(res.body["created"].get<int64_t>(), 1'600'000'000);
  EXPECT_FALSE(res.replayed);
  EXPECT_EQ(res.raw.find("4242424242424242"), std::string::npos);
  EXPECT_EQ(counts(), json({{"pi_1", 1}}));
}

TEST_F(SimTest, MastercardAndOtherLuhnValidNumbersSucceed) {
  auto mc = charge("k-mc", charge_body("5555555555554444", 100, "pi_mc"));
  ASSERT_EQ(mc.status, 200) << mc.raw;
  EXPECT_EQ(mc.body["brand"], "mastercard");
  auto other = charge("k-amex", charge_body("378282246310005", 100, "pi_ax"));
  ASSERT_EQ(other.status, 200) << other.raw;
  EXPECT_EQ(other.body["brand"], "amex");
  EXPECT_EQ(other.body["last4"], "0005");
}

TEST_F(SimTest, DeclineCardsAnswer402WithTheirCode) {
  const std::vector<std::pair<std::string, std::string>> cards{
      {"4000000000000002", "card_declined"},
      {"4000000000009995", "insufficient_funds"},
      {"4000000000000069", "expired_card"},
      {"4000000000000127", "incorrect_cvc"},
      {"4000000000000119", "processing_error"},
      {"4242424242424241", "incorrect_number"}, // fails the Luhn check
  };
  for (const auto& [card, code] : cards) {
    auto res = charge("k-" + code, charge_body(card, 500, "pi_" + code));
    ASSERT_EQ(res.status, 402) << code << ": " << res.raw;
    EXPECT_EQ(res.body["status"], "declined");
    EXPECT_EQ(res.body["decline_code"], code);
    EXPECT_FALSE(res.body["message"].get<std::string>().empty());
    EXPECT_EQ(res.body["id"].get<std::string>().rfind("ch_", 0), 0u);
    EXPECT_EQ(res.body["last4"], card.substr(12));
    EXPECT_EQ(res.raw.find(card), std::string::npos);
  }
  // Declines are recorded but are not captures.
  EXPECT_EQ(recorded_charges(), cards.size());
  EXPECT_EQ(counts(), json::object());
  auto rows = get(port(), "/admin/charges").body["charges"];
  EXPECT_EQ(rows[0]["status"], "declined");
  EXPECT_EQ(rows[0]["decline_code"], "card_declined");
}

TEST_F(SimTest, MissingIdempotencyKeyIsRejected) {
  auto res = charge("", charge_body("4242424242424242"));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.body["error"]["code"], "missing_idempotency_key");
  EXPECT_EQ(recorded_charges(), 0u);
}

TEST_F(SimTest, MalformedJsonAndBadFieldsAreRejected) {
  auto res = post(port(), "/v1/charges", "{\"amount\": 20", "k-bad-json");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.body["error"]["code"], "invalid_request");
  auto body = charge_body("4242424242424242");
  body["amount"] = -5;
  EXPECT_EQ(charge("k-neg", body).status, 400);
  body = charge_body("4242424242424242");
  body["currency"] = "USD";
  EXPECT_EQ(charge("k-cur", body).status, 400);
  body = charge_body("4242424242424242");
  body["amount"] = 20.5;
  EXPECT_EQ(charge("k-frac", body).status, 400);
  body = charge_body("4242 4242 4242 4242");
  auto spaced = charge("k-spaces", body);
  EXPECT_EQ(spaced.status, 400);
  EXPECT_EQ(spaced.raw.find("4242 4242"), std::string::npos);
  EXPECT_EQ(recorded_charges(), 0u);
  // A rejected request does not consume its key.
  EXPECT_EQ(charge("k-neg", charge_body("4242424242424242")).status, 200);
}

TEST_F(SimTest, ReplayReturnsIdenticalBodyWithHeader) {
  auto first = charge("k-replay", charge_body("4242424242424242"));
  ASSERT_EQ(first.status, 200);
  EXPECT_FALSE(first.replayed);
  auto second = charge("k-replay", charge_body("4242424242424242"));
  EXPECT_EQ(second.status, 200);
  EXPECT_TRUE(second.replayed);
  EXPECT_EQ(second.raw, first.raw);
  // Declines replay too, with their 402.
  auto d1 = charge("k-d", charge_body("4000000000000002", 2000, "pi_d"));
  auto d2 = charge("k-d", charge_body("4000000000000002", 2000, "pi_d"));
  EXPECT_EQ(d2.status, 402);
  EXPECT_TRUE(d2.replayed);
  EXPECT_EQ(d2.raw, d1.raw);
  EXPECT_EQ(recorded_charges(), 2u);
  EXPECT_EQ(get(port(), "/admin/stats").body["replays"], 2);
}

TEST_F(SimTest, ConcurrentSameKeyRequestsChargeOnce) {
  constexpr int threads_count = 20;
  std::vector<http_result> results(threads_count);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < threads_count; ++i) {
    threads.emplace_back([&, i] {
      while (!go) {
        std::this_thread::yield();
      }
      results[i] =
          charge("k-race", charge_body("4242424242424242", 700, "pi_race"));
    });
  }
  go = true;
  for (auto& t : threads) {
    t.join();
  }
  std::set<std::string> bodies;
  int replays = 0;
  for (const auto& r : results) {
    EXPECT_EQ(r.status, 200) << r.raw;
    bodies.insert(r.raw);
    replays += r.replayed ? 1 : 0;
  }
  EXPECT_EQ(bodies.size(), 1u);
  EXPECT_EQ(replays, threads_count - 1);
  EXPECT_EQ(counts(), json({{"pi_race", 1}}));
  EXPECT_EQ(recorded_charges(), 1u);
}

TEST_F(SimTest, SameKeyWithDifferentParametersConflicts) {
  ASSERT_EQ(charge("k-409", charge_body("4242424242424242", 2000)).status, 200);
  auto res = charge("k-409", charge_body("4242424242424242", 2001));
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(res.body["error"]["code"], "idempotency_key_reused");
  auto other_ref = charge("k-409", charge_body("4242424242424242", 2000, "x"));
  EXPECT_EQ(other_ref.status, 409);
  // Another card under the key is another request too (a PSP that lost an
  // attempt and pays the same checkout again must learn it, decision 70).
  auto other_card = charge("k-409", charge_body("5555555555554444", 2000));
  EXPECT_EQ(other_card.status, 409);
  EXPECT_EQ(other_card.body["error"]["code"], "idempotency_key_reused");
  EXPECT_EQ(other_card.body.dump().find("5555555555554444"), std::string::npos);
  // Same last four digits and expiry, another brand: another card.
  EXPECT_EQ(charge("k-409", charge_body("5555555550054242", 2000)).status, 409);
  auto other_expiry = charge_body("4242424242424242", 2000);
  other_expiry["exp_year"] = 2031;
  EXPECT_EQ(charge("k-409", other_expiry).status, 409);
  EXPECT_EQ(charge("k-409", charge_body("4242424242424242", 2000)).status, 200);
  EXPECT_EQ(recorded_charges(), 1u);
}

TEST_F(SimTest, ErrorRateAnswers503WithoutConsumingTheKey) {
  set_faults({{"error_rate", 1.0}});
  auto failed = charge("k-503", charge_body("4242424242424242"));
  EXPECT_EQ(failed.status, 503);
  EXPECT_EQ(failed.body["error"]["code"], "network_unavailable");
  EXPECT_EQ(recorded_charges(), 0u);
  EXPECT_EQ(counts(), json::object());
  set_faults({{"error_rate", 0.0}});
  auto retry = charge("k-503", charge_body("4242424242424242"));
  EXPECT_EQ(retry.status, 200);
  EXPECT_FALSE(retry.replayed);
  EXPECT_EQ(counts(), json({{"pi_1", 1}}));
  EXPECT_EQ(get(port(), "/admin/stats").body["injected_errors"], 1);
}

TEST_F(SimTest, ErrorAfterChargeStoresTheRealOutcome) {
  set_faults({{"error_after_charge_rate", 1.0}});
  auto lost = charge("k-500", charge_body("4242424242424242"));
  EXPECT_EQ(lost.status, 500);
  EXPECT_EQ(counts(), json({{"pi_1", 1}}));
  set_faults({{"error_after_charge_rate", 0.0}});
  auto retry = charge("k-500", charge_body("4242424242424242"));
  ASSERT_EQ(retry.status, 200);
  EXPECT_TRUE(retry.replayed);
  auto rows = get(port(), "/admin/charges").body["charges"];
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(retry.body["id"], rows[0]["id"]);
  EXPECT_EQ(counts(), json({{"pi_1", 1}}));
}

TEST_F(SimTest, RefundsArePartialAndBoundedByTheCapture) {
  auto ch = charge("k-ch", charge_body("4242424242424242", 2000, "pi_r"));
  auto id = ch.body["id"].get<std::string>();
  auto r1 = refund("k-r1", id, 500);
  ASSERT_EQ(r1.status, 200) << r1.raw;
  EXPECT_EQ(r1.body["id"].get<std::string>().rfind("re_", 0), 0u);
  EXPECT_EQ(r1.body["status"], "succeeded");
  EXPECT_EQ(r1.body["charge"], id);
  EXPECT_EQ(r1.body["amount"], 500);
  EXPECT_EQ(r1.body["currency"], "usd");
  EXPECT_EQ(r1.body["reference"], "pi_r");
  auto replay = refund("k-r1", id, 500);
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.raw, r1.raw);
  auto over = refund("k-r2", id, 1501);
  EXPECT_EQ(over.status, 400);
  EXPECT_EQ(over.body["error"]["code"], "amount_too_large");
  EXPECT_EQ(refund("k-r3", id, 1500).status, 200);
  EXPECT_EQ(refund("k-r4", id, 1).status, 400);
  auto missing = refund("k-r5", "ch_nope", 1);
  EXPECT_EQ(missing.status, 404);
  auto declined = charge("k-dc", charge_body("4000000000000002", 900, "pi_x"));
  auto refund_declined = refund("k-r6", declined.body["id"], 100);
  EXPECT_EQ(refund_declined.body["error"]["code"], "amount_too_large");
  EXPECT_EQ(post(port(), "/v1/refunds", "{}", "").status, 400);
}

TEST_F(SimTest, SettlementListsCapturesAndRefundsInWindow) {
  auto ch = charge("k-s1", charge_body("4242424242424242", 2000, "pi_s1"));
  charge("k-s2", charge_body("4000000000000002", 300, "pi_s2"));
  auto re = refund("k-s3", ch.body["id"], 800);
  auto now = ch.body["created"].get<int64_t>();
  auto lines = get(port(), "/admin/settlement?from=" + std::to_string(now - 5) +
                               "&to=" + std::to_string(now + 60))
                   .body["lines"];
  ASSERT_EQ(lines.size(), 2u) << lines.dump();
  std::set<std::string> types;
  for (const auto& line : lines) {
    types.insert(line["type"].get<std::string>());
    EXPECT_EQ(line["charge"], ch.body["id"]);
    EXPECT_EQ(line["reference"], "pi_s1");
  }
  EXPECT_EQ(types, (std::set<std::string>{"capture", "refund"}));
  auto first = lines[0];
  auto second = lines[1];
  EXPECT_LE(std::make_pair(first["created"].get<int64_t>(),
                           first["id"].get<std::string>()),
            std::make_pair(second["created"].get<int64_t>(),
                           second["id"].get<std::string>()));
  auto before =
      get(port(), "/admin/settlement?from=0&to=" + std::to_string(now - 5));
  EXPECT_EQ(before.body["lines"].size(), 0u);
  EXPECT_EQ(get(port(), "/admin/settlement?from=abc").status, 400);
}

TEST_F(SimTest, ResetForgetsChargesKeysStatsAndFaults) {
  charge("k-reset", charge_body("4242424242424242"));
  set_faults({{"latency_ms", 5}});
  ASSERT_EQ(post(port(), "/admin/reset", "").status, 200);
  EXPECT_EQ(recorded_charges(), 0u);
  EXPECT_EQ(counts(), json::object());
  EXPECT_EQ(get(port(), "/admin/stats").body["requests"], 0);
  EXPECT_EQ(get(port(), "/admin/faults").body["latency_ms"], 0);
  auto again = charge("k-reset", charge_body("4242424242424242"));
  EXPECT_EQ(again.status, 200);
  EXPECT_FALSE(again.replayed);
}

TEST_F(SimTest, FaultKnobsAreValidatedAndReadable) {
  set_faults({{"latency_jitter_ms", 3}, {"timeout_ms", 1000}});
  auto knobs = get(port(), "/admin/faults").body;
  EXPECT_EQ(knobs["latency_jitter_ms"], 3);
  EXPECT_EQ(knobs["timeout_ms"], 1000);
  EXPECT_EQ(knobs["blackhole"], false);
  EXPECT_EQ(post(port(), "/admin/faults", R"({"error_rate":2})").status, 400);
  EXPECT_EQ(post(port(), "/admin/faults", R"({"timeout_ms":999999})").status,
            400);
  EXPECT_EQ(post(port(), "/admin/faults", R"({"typo":1})").status, 400);
  EXPECT_EQ(get(port(), "/admin/faults").body["error_rate"], 0.0);
}

TEST_F(SimTest, TimeoutRateDelaysThenAnswersNormally) {
  set_faults({{"timeout_rate", 1.0}, {"timeout_ms", 300}});
  auto start = std::chrono::steady_clock::now();
  auto res = charge("k-slow", charge_body("4242424242424242"));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(res.status, 200);
  EXPECT_GE(elapsed, 300ms);
  EXPECT_EQ(counts(), json({{"pi_1", 1}}));
}

TEST_F(SimTest, BlackholeClosesWithoutAnswerAndRecordsNothing) {
  set_faults({{"blackhole", true}});
  std::optional<httplib::Error> error;
  std::thread caller{[&] {
    auto cli = make_client(port());
    httplib::Headers headers{{"Idempotency-Key", "k-hole"}};
    auto res =
        cli->Post("/v1/charges", headers,
                  charge_body("4242424242424242").dump(), "application/json");
    error = res.error();
  }};
  // Let the request reach the simulator before opening the hole again.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (get(port(), "/admin/stats").body["injected_errors"] == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  set_faults({{"blackhole", false}});
  caller.join();
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(*error, httplib::Error::Success);
  EXPECT_EQ(recorded_charges(), 0u);
  EXPECT_EQ(charge("k-hole", charge_body("4242424242424242")).status, 200);
}

TEST_F(SimTest, UnknownRouteAnswersJson404) {
  auto res = get(port(), "/nope");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(res.body["error"]["code"], "not_found");
  EXPECT_EQ(get(port(), "/healthz").body, json({{"status", "ok"}}));
}

TEST_F(SimTest, OversizedBodyIsRejected) {
  std::string big(65 * 1024, 'x');
  auto res = post(port(), "/v1/charges", big, "k-big");
  EXPECT_EQ(res.status, 413);
  EXPECT_EQ(recorded_charges(), 0u);
}

int exit_code_of(const std::string& args) {
  auto cmd = std::string{SIM_BINARY} + " " + args + " >/dev/null 2>&1";
  auto status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(SimProcessTest, BadFlagsExitWithCode2) {
  EXPECT_EQ(exit_code_of("--port 0 --bogus 1"), 2);
  EXPECT_EQ(exit_code_of("--port 0 --error-rate 1.5"), 2);
  EXPECT_EQ(exit_code_of("--port abc"), 2);
  EXPECT_EQ(exit_code_of("--latency-ms 5"), 2); // --port missing
  EXPECT_EQ(exit_code_of("--port"), 2);
  EXPECT_EQ(exit_code_of("--help"), 0);
}

TEST(SimProcessTest, ATakenPortIsRefused) {
  sim_process first;
  ASSERT_GT(first.port, 0);
  // Were the port shared, the second would listen on: `timeout` ends it
  // with 124 instead of the test hanging.
  auto cmd = "timeout 5 " + std::string{SIM_BINARY} + " --port "
             + std::to_string(first.port) + " >/dev/null 2>&1";
  auto status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
}

TEST(SimProcessTest, SigtermStopsCleanly) {
  sim_process sim{{"--threads", "4", "--seed", "7"}};
  ASSERT_GT(sim.port, 0);
  ASSERT_EQ(get(sim.port, "/healthz").status, 200);
  auto status = sim.child.stop();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(SimProcessTest, StartupFlagsSetInitialFaults) {
  sim_process sim{{"--error-rate", "1", "--latency-ms", "20"}};
  ASSERT_GT(sim.port, 0);
  auto knobs = get(sim.port, "/admin/faults").body;
  EXPECT_EQ(knobs["error_rate"], 1.0);
  EXPECT_EQ(knobs["latency_ms"], 20);
  auto res = post(sim.port, "/v1/charges",
                  charge_body("4242424242424242").dump(), "k");
  EXPECT_EQ(res.status, 503);
}

} // namespace
