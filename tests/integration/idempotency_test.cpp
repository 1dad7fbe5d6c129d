// Goal: Stripe's Idempotency-Key semantics under concurrency: one object per
// key, byte-identical replays, mismatches refused, validation failures safe
// to retry, keys scoped per merchant; and one attempt per hosted-page
// submission however many times or tabs it is sent from.

#include "tests/support/psp_stack.hpp"

#include "adapters/codec/form_decode.hpp"
#include "adapters/crypto/encoding.hpp"
#include "adapters/http/idempotency.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <set>
#include <thread>

namespace psp::test {
namespace {

form_fields session_form(const std::string& amount = "2500") {
  return {{"mode", "payment"},
          {"success_url", "https://shop.example/ok"},
          {"line_items[0][price_data][currency]", "usd"},
          {"line_items[0][price_data][unit_amount]", amount},
          {"line_items[0][price_data][product_data][name]", "Lamp"},
          {"line_items[0][quantity]", "1"}};
}

http_request create_request(const psp_stack& stack, const std::string& key,
                            const form_fields& fields) {
  return keyed_post(stack, "/v1/checkout/sessions", fields, key);
}

TEST(idempotency, hundred_concurrent_requests_create_one_session) {
  psp_stack stack;
  for (int round = 0; round < 5; ++round) {
    auto key = "burst-" + std::to_string(round);
    auto req = create_request(stack, key, session_form());
    std::vector<http_reply> replies(100);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < replies.size(); ++i) {
      threads.emplace_back(
          [&, i] { replies[i] = http_call(stack.node_url(), req); });
    }
    for (auto& t : threads) {
      t.join();
    }
    std::set<std::string> ids;
    int created_or_replayed = 0;
    for (auto& r : replies) {
      ASSERT_TRUE(r.status == 200 || r.status == 409) << r.status << r.body;
      if (r.status == 200) {
        ++created_or_replayed;
        ids.insert(r.body_json()["id"].get<std::string>());
      } else {
        EXPECT_EQ(r.body_json()["error"]["code"], "idempotency_key_in_use");
        // Told to retry, and when (a client that gives up shows the
        // shopper an error for a payment that may have gone through).
        EXPECT_EQ(r.header("Stripe-Should-Retry"), "true");
        EXPECT_EQ(r.header("Retry-After"), "1");
      }
    }
    EXPECT_GE(created_or_replayed, 1);
    EXPECT_EQ(ids.size(), 1u) << "round " << round;
  }
  EXPECT_EQ(stack.redis_keys("cs:*").size(), 5u);
}

TEST(idempotency, replay_is_byte_identical_and_marked) {
  psp_stack stack;
  auto req = create_request(stack, "order-7", session_form());
  auto first = http_call(stack.node_url(), req);
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.header("Idempotent-Replayed"), "");
  // The same parameters in another order are the same request.
  auto fields = session_form();
  std::reverse(fields.begin(), fields.end());
  auto reordered = create_request(stack, "order-7", fields);
  auto second = http_call(stack.node_url(), reordered);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(second.body, first.body);
}

TEST(idempotency, an_api_answer_is_stored_compressed_and_replayed_exactly) {
  psp_stack stack;
  form_fields intent{{"amount", "4200"},
                     {"currency", "usd"},
                     {"confirm", "true"},
                     {"payment_method", "pm_card_visa"},
                     {"metadata[order]", "42"}};
  auto req = keyed_post(stack, "/v1/payment_intents", intent, "pi-order-42");
  auto first = http_call(stack.node_url(), req);
  ASSERT_EQ(first.status, 200) << first.body;
  auto stored =
    stack.redis_hash("idem:" + stack.merchant().id + ":pi-order-42");
  ASSERT_EQ(stored["state"], "done");
  // Packed: a tag no JSON starts with, and much smaller than the answer.
  EXPECT_EQ(stored["body"].substr(0, 3), std::string("\0a1", 3));
  EXPECT_LT(stored["body"].size() * 2, first.body.size())
    << stored["body"].size() << " of " << first.body.size();
  auto again = http_call(stack.node_url(), req);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(again.body, first.body);
  // An answer stored plain by an earlier release still replays as it was.
  ASSERT_TRUE(stack.redis_cmd({"HSET",
                               "idem:" + stack.merchant().id + ":pi-order-42",
                               "body", first.body}));
  EXPECT_EQ(http_call(stack.node_url(), req).body, first.body);
}

int64_t network_charges(psp_stack& stack) {
  int64_t total = 0;
  auto counts = stack.sim_charge_counts();
  for (auto& [reference, count] : counts.items()) {
    total += count.get<int64_t>();
  }
  return total;
}

TEST(idempotency, a_retry_after_redis_lost_the_key_charges_once) {
  // Redis can lose a key's record (an AOF tail cut, a restore from an
  // older backup: the disaster-recovery drill). The client's retry must
  // name the same intent and attempt, so the network's idempotency answers
  // the charge it already made: with a drawn seed, 22 of 22 retries in the
  // drill made a new intent and a second charge (decision 61).
  psp_stack stack;
  form_fields intent{{"amount", "4300"},
                     {"currency", "usd"},
                     {"confirm", "true"},
                     {"payment_method", "pm_card_visa"}};
  auto req = keyed_post(stack, "/v1/payment_intents", intent, "order-lost");
  auto first = http_call(stack.node_url(), req);
  ASSERT_EQ(first.status, 200) << first.body;
  auto charges_before = network_charges(stack);
  ASSERT_TRUE(stack.redis_cmd(
    {"DEL", "idem:" + stack.merchant().id + ":order-lost"}));
  auto retried = http_call(stack.node_url(), req);
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.body_json().value("id", ""),
            first.body_json().value("id", ""))
    << "the retry names the first run's intent";
  EXPECT_EQ(retried.body_json().value("status", ""), "succeeded");
  EXPECT_EQ(network_charges(stack), charges_before) << "charged once";
  // Other parameters under the lost key are another request: new ids.
  ASSERT_TRUE(stack.redis_cmd(
    {"DEL", "idem:" + stack.merchant().id + ":order-lost"}));
  intent[0].second = "4400";
  auto other = http_call(stack.node_url(), keyed_post(
                           stack, "/v1/payment_intents", intent, "order-lost"));
  ASSERT_EQ(other.status, 200) << other.body;
  EXPECT_NE(other.body_json().value("id", ""),
            first.body_json().value("id", ""));
}

// The answer is stored by reference (decision 22): a replay renders the
// session as it is now with its fields as created set back.
TEST(idempotency, replay_after_the_session_changed_is_the_first_answer) {
  psp_stack stack;
  auto paid_req = create_request(stack, "paid-later", session_form());
  auto paid = http_call(stack.node_url(), paid_req);
  ASSERT_EQ(paid.status, 200) << paid.body;
  auto paid_id = paid.body_json()["id"].get<std::string>();
  ASSERT_EQ(stack.pay(paid_id, "4242424242424242").status, 303);
  ASSERT_EQ(stack.wait_for_outcome(paid_id).value("status", ""), "complete");

  auto expired_req = create_request(stack, "expired-later",
                                    session_form("1200"));
  auto expired = http_call(stack.node_url(), expired_req);
  ASSERT_EQ(expired.status, 200) << expired.body;
  auto expired_id = expired.body_json()["id"].get<std::string>();
  auto expire = stack.api_post(
    "/v1/checkout/sessions/" + expired_id + "/expire", {});
  ASSERT_EQ(expire.status, 200) << expire.body;
  ASSERT_EQ(expire.body_json()["status"], "expired");

  for (auto [req, first] : {std::pair{&paid_req, &paid},
                            std::pair{&expired_req, &expired}}) {
    auto id = first->body_json()["id"].get<std::string>();
    ASSERT_NE(stack.api_get("/v1/checkout/sessions/" + id).body, first->body);
    auto again = http_call(stack.node_url(), *req);
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
    EXPECT_EQ(again.body, first->body);
    auto stored = stack.redis_hash("idem:" + stack.merchant().id + ":"
                                   + req->headers.at(0).second);
    EXPECT_EQ(stored["ref"], "cs:" + id);
    EXPECT_EQ(stored.count("body"), 0u) << "the answer's bytes are stored";
  }
}

TEST(idempotency, different_parameters_under_one_key_are_refused) {
  psp_stack stack;
  ASSERT_EQ(http_call(stack.node_url(),
                      create_request(stack, "k", session_form("2500")))
                .status,
            200);
  auto other = http_call(stack.node_url(),
                         create_request(stack, "k", session_form("9900")));
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(other.body_json()["error"]["type"], "idempotency_error");
  EXPECT_EQ(stack.redis_keys("cs:*").size(), 1u);
}

TEST(idempotency, validation_failure_is_not_stored) {
  psp_stack stack;
  auto bad = session_form();
  bad.erase(bad.begin()); // no mode
  auto refused =
      http_call(stack.node_url(), create_request(stack, "fix-me", bad));
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.body_json()["error"]["param"], "mode");
  auto fixed = http_call(stack.node_url(),
                         create_request(stack, "fix-me", session_form()));
  EXPECT_EQ(fixed.status, 200) << fixed.body;
  EXPECT_EQ(stack.redis_keys("cs:*").size(), 1u);
}

TEST(idempotency, a_retry_that_no_longer_validates_still_replays) {
  // A create that once succeeded may not validate any more when retried
  // (its expires_at has passed since). Checked here with a stored answer
  // planted under the fingerprint of a request that fails validation: the
  // key's answer wins, as a claim-first path would have it.
  psp_stack stack;
  auto bad = session_form();
  bad.erase(bad.begin()); // no mode
  auto req = create_request(stack, "was-fine", bad);
  auto params = std::get<nlohmann::json>(codec::decode_form(req.body));
  auto idem = "idem:" + stack.merchant().id + ":was-fine";
  auto secret = http::fingerprint_secret(*crypto::from_hex(
    stack.vault_key_hex()));
  ASSERT_TRUE(stack.redis_cmd(
    {"HSET", idem, "state", "done", "fingerprint",
     http::request_fingerprint(secret, "POST", "/v1/checkout/sessions",
                               params),
     "status", "200", "body", R"({"id":"cs_test_planted"})", "content_type",
     "application/json"}));
  auto replayed = http_call(stack.node_url(), req);
  EXPECT_EQ(replayed.status, 200) << replayed.body;
  EXPECT_EQ(replayed.body, R"({"id":"cs_test_planted"})");
  EXPECT_EQ(replayed.header("Idempotent-Replayed"), "true");
  // The same for an answer stored by reference, the session changed since.
  auto session = stack.create_session(700);
  auto cs = session["id"].get<std::string>();
  ASSERT_EQ(stack.api_post("/v1/checkout/sessions/" + cs + "/expire", {})
              .status, 200);
  ASSERT_TRUE(stack.redis_cmd(
    {"HSET", idem, "ref", "cs:" + cs, "as_created",
     R"({"status":"open","payment_status":"unpaid","expires_at":")"
       + std::to_string(session["expires_at"].get<int64_t>()) + R"("})"}));
  auto by_ref = http_call(stack.node_url(), req);
  EXPECT_EQ(by_ref.status, 200) << by_ref.body;
  EXPECT_EQ(by_ref.body, session.dump());
  EXPECT_EQ(by_ref.header("Idempotent-Replayed"), "true");
  // Under a key used with other parameters the answer is the mismatch.
  ASSERT_TRUE(stack.redis_cmd({"HSET", idem, "fingerprint", "other"}));
  auto refused = http_call(stack.node_url(), req);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.body_json()["error"]["type"], "idempotency_error");
  EXPECT_EQ(stack.redis_keys("cs:*").size(), 1u);
}

TEST(idempotency, keys_are_scoped_per_merchant_and_bounded) {
  psp_stack stack;
  auto other = stack.create_merchant("Second Shop");
  auto mine = http_call(stack.node_url(),
                        create_request(stack, "shared", session_form()));
  auto req = create_request(stack, "shared", session_form());
  req.bearer = other.secret_key;
  auto theirs = http_call(stack.node_url(), req);
  ASSERT_EQ(mine.status, 200);
  ASSERT_EQ(theirs.status, 200);
  EXPECT_NE(mine.body_json()["id"], theirs.body_json()["id"]);
  auto too_long =
      http_call(stack.node_url(),
                create_request(stack, std::string(256, 'k'), session_form()));
  EXPECT_EQ(too_long.status, 400);
}

TEST(idempotency, a_retry_after_a_503_from_a_stalled_redis_runs_at_once) {
  psp_stack stack;
  form_fields intent{{"amount", "1500"}, {"currency", "usd"}};
  // Caches the merchant's key, so the stalled request fails at its claim,
  // and loads the claim's script, so Redis can run it once it resumes.
  auto warm = keyed_post(stack, "/v1/payment_intents", intent, "warm-1");
  ASSERT_EQ(http_call(stack.node_url(), warm).status, 200);
  auto req = keyed_post(stack, "/v1/payment_intents", intent, "stalled-1");
  stack.redis().process().signal(SIGSTOP);
  auto during = http_call(stack.node_url(), req);
  std::this_thread::sleep_for(500ms);
  stack.redis().process().signal(SIGCONT);
  ASSERT_EQ(during.status, 503) << during.body;
  EXPECT_EQ(during.header("Stripe-Should-Retry"), "true");
  // Resumed, Redis applies the claim that was queued in it; the retry the
  // 503 asked for must not meet that claim as a live request (409 until
  // its lease ends, a minute later).
  auto resumed = std::chrono::steady_clock::now();
  http_reply retry;
  EXPECT_TRUE(wait_until(
      [&] {
        retry = http_call(stack.node_url(), req);
        return retry.status != 409 && retry.status != 503;
      },
      10s, 100ms))
    << retry.status << " " << retry.body;
  ASSERT_EQ(retry.status, 200) << retry.body;
  std::cout << "[ measure  ] the retry ran "
            << std::chrono::duration<double>(
                 std::chrono::steady_clock::now() - resumed)
                 .count()
            << " s after Redis resumed" << std::endl;
  auto replay = http_call(stack.node_url(), req);
  EXPECT_EQ(replay.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(replay.body, retry.body);
  EXPECT_EQ(stack.redis_keys("pi:*").size(), 2u);
}

TEST(idempotency, two_tabs_paying_one_session_make_one_attempt) {
  psp_stack stack;
  stack.sim_faults({{"latency_ms", 300}}); // keep the first one in flight
  auto cs = stack.create_session()["id"].get<std::string>();
  auto tab_a = stack.page_nonce(cs);
  auto tab_b = stack.page_nonce(cs);
  ASSERT_NE(tab_a, tab_b);
  std::vector<http_reply> replies(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < replies.size(); ++i) {
    // Two tabs, each double-clicking.
    threads.emplace_back([&, i] {
      replies[i] = stack.pay(cs, card_input{}, 0, i % 2 == 0 ? tab_a : tab_b);
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (auto& r : replies) {
    EXPECT_EQ(r.status, 303) << r.body;
  }
  auto outcome = stack.wait_for_outcome(cs);
  EXPECT_EQ(outcome["status"], "complete");
  EXPECT_EQ(stack.redis_keys("pa:*").size(), 1u) << "one attempt";
  auto intent = stack.redis_hash("cs:" + cs)["intent"];
  EXPECT_EQ(stack.sim_charge_count(intent), 1);
}

} // namespace
} // namespace psp::test
