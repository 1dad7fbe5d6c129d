// Goal: a node killed (SIGKILL) at each named crash point of the payment
// path and restarted completes the payment with exactly one charge at the
// card network, one ledger transaction and one set of events; webhooks may
// be delivered twice, always with the same event id.

#include "tests/support/psp_stack.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <thread>

namespace psp::test {
namespace {

/// POST /v1/payment_intents under an Idempotency-Key: an endpoint that runs
/// through the generic claim → handler → store path.
http_request create_intent_with_key(const psp_stack& stack,
                                    const std::string& key) {
  return keyed_post(stack, "/v1/payment_intents",
                    {{"amount", "1500"}, {"currency", "usd"}}, key);
}

/// POST /v1/checkout/sessions under an Idempotency-Key.
http_request create_with_key(const psp_stack& stack, const std::string& key) {
  return keyed_post(
    stack, "/v1/checkout/sessions",
    {{"mode", "payment"},
     {"success_url", "https://shop.example/ok"},
     {"line_items[0][price_data][currency]", "usd"},
     {"line_items[0][price_data][unit_amount]", "1500"},
     {"line_items[0][price_data][product_data][name]", "Mug"},
     {"line_items[0][quantity]", "1"}},
    key);
}

class crash_points_test : public ::testing::Test {
public:
  /// Runs node 0 by hand with `variable`=`point` (plus `extra`).
  void start_armed(psp_stack& stack, const std::string& point,
                   const std::vector<std::string>& extra = {},
                   const std::string& variable = "PSP_TEST_CRASH_AT") {
    if (stack.node_running(0)) {
      stack.stop_node(0);
    }
    auto argv = stack.node_command(0);
    argv.insert(argv.end(), extra.begin(), extra.end());
    armed_ = std::make_unique<child_process>(
        argv, stack.node_log(0),
        std::vector<std::string>{variable + "=" + point});
    ASSERT_TRUE(wait_for_port(stack.node_port(0), std::chrono::seconds{20}));
  }

  /// Waits until the armed node has killed itself.
  bool armed_died() {
    return wait_until([&] { return !armed_->running(); }, 20s);
  }

  /// Exactly-once effects of a succeeded payment of session `cs`.
  void expect_exactly_once(psp_stack& stack, const std::string& cs) {
    auto session = stack.redis_hash("cs:" + cs);
    auto intent = session["intent"];
    ASSERT_FALSE(intent.empty());
    EXPECT_EQ(stack.redis_hash("pi:" + intent)["status"], "succeeded");
    EXPECT_EQ(session["status"], "complete");
    EXPECT_EQ(stack.sim_charge_count(intent), 1) << "charged twice or never";
    auto txns = stack.redis_cmd({"XRANGE", "ledger:transactions", "-", "+"});
    ASSERT_TRUE(txns);
    int for_intent = 0;
    for (auto& t : txns->elements) {
      auto& f = t.elements[1].elements;
      for (size_t i = 0; i + 1 < f.size(); i += 2) {
        for_intent += f[i].str == "intent" && f[i + 1].str == intent;
      }
    }
    EXPECT_EQ(for_intent, 1) << "one ledger transaction per payment";
    EXPECT_TRUE(stack.ledger_balanced());
    auto events = stack.redis_cmd(
        {"ZRANGE", "merchant:" + stack.merchant().id + ":events", "0", "-1"});
    ASSERT_TRUE(events);
    EXPECT_EQ(events->elements.size(), 2u)
        << "payment_intent.succeeded + checkout.session.completed, once each";
    auto stream = stack.payment_stream_len();
    EXPECT_EQ(stream, 0) << "every payment stream entry acknowledged";
  }

  static http_reply delete_endpoint(psp_stack& stack, const std::string& id) {
    http_request del;
    del.method = "DELETE";
    del.path = "/v1/webhook_endpoints/" + id;
    del.bearer = stack.secret_key();
    return http_call(stack.node_url(), del);
  }

  /// How many times node 0's log says a request stalled at a pause point.
  static size_t pause_lines(psp_stack& stack) {
    std::ifstream log{stack.node_log(0)};
    std::string text{std::istreambuf_iterator<char>{log}, {}};
    size_t n = 0;
    for (auto at = text.find("event=pause_point"); at != std::string::npos;
         at = text.find("event=pause_point", at + 1)) {
      ++n;
    }
    return n;
  }

  /// Waits until the armed node logged one more stall than `before` (so the
  /// test's next request is the retry, not the first run).
  bool paused(psp_stack& stack, size_t before) {
    return wait_until([&] { return pause_lines(stack) > before; }, 10s);
  }

  struct stalled_and_retried {
    http_reply stalled;
    http_reply retried;
  };

  /// Sends `req`, which stalls at the armed pause point, then sends it again
  /// until the retry takes its key over (once the stalled run's lease
  /// ended); runs `meanwhile` while the stalled run still sleeps; answers
  /// both replies once the stalled run woke and answered.
  stalled_and_retried
  stall_and_retry(psp_stack& stack, const http_request& req,
                  const std::function<void(const http_reply&)>& meanwhile
                  = {}) {
    stalled_and_retried out;
    auto before = pause_lines(stack);
    std::thread first{[&] { out.stalled = http_call(stack.node_url(), req); }};
    EXPECT_TRUE(paused(stack, before));
    EXPECT_TRUE(wait_until(
        [&] {
          out.retried = http_call(stack.node_url(), req);
          if (out.retried.status == 409) {
            // Told to retry with the same key, and when.
            EXPECT_EQ(out.retried.header("Stripe-Should-Retry"), "true");
            EXPECT_EQ(out.retried.header("Retry-After"), "1");
          }
          return out.retried.status != 409;
        },
        10s, 200ms));
    if (meanwhile && out.retried.status == 200) {
      meanwhile(out.retried);
    }
    first.join();
    return out;
  }

  /// Ledger transactions of intent `intent` and op `op`.
  static int ledger_entries(psp_stack& stack, const std::string& intent,
                            const std::string& op) {
    auto txns = stack.redis_cmd({"XRANGE", "ledger:transactions", "-", "+"});
    int n = 0;
    for (auto& t : txns ? txns->elements : std::vector<redis_reply>{}) {
      std::map<std::string, std::string> f;
      auto& flat = t.elements[1].elements;
      for (size_t i = 0; i + 1 < flat.size(); i += 2) {
        f[flat[i].str] = flat[i + 1].str;
      }
      n += f["intent"] == intent && f["op"] == op ? 1 : 0;
    }
    return n;
  }

  std::unique_ptr<child_process> armed_;
};

TEST_F(crash_points_test, after_confirm_before_answer) {
  psp_stack stack;
  start_armed(stack, "after_confirm");
  auto cs = stack.create_session()["id"].get<std::string>();
  auto answer = stack.pay(cs);
  EXPECT_EQ(answer.status, 0) << "the shopper saw no answer";
  ASSERT_TRUE(armed_died());
  stack.start_node(0);
  auto outcome = stack.wait_for_outcome(cs);
  EXPECT_EQ(outcome["status"], "complete");
  expect_exactly_once(stack, cs);
}

TEST_F(crash_points_test, after_network_answer_before_commit) {
  psp_stack stack;
  start_armed(stack, "after_network_answer");
  auto cs = stack.create_session()["id"].get<std::string>();
  stack.pay(cs);
  ASSERT_TRUE(armed_died());
  auto intent = stack.redis_hash("cs:" + cs)["intent"];
  EXPECT_EQ(stack.sim_charge_count(intent), 1) << "the network did charge";
  EXPECT_EQ(stack.redis_hash("pi:" + intent)["status"], "processing");
  stack.start_node(0); // same node id: re-reads its pending entries
  auto outcome = stack.wait_for_outcome(cs);
  EXPECT_EQ(outcome["status"], "complete");
  expect_exactly_once(stack, cs);
}

TEST_F(crash_points_test, after_commit_before_reply) {
  psp_stack stack;
  start_armed(stack, "after_commit");
  auto cs = stack.create_session()["id"].get<std::string>();
  stack.pay(cs);
  ASSERT_TRUE(armed_died());
  // The commit step acknowledged the stream entry itself (XACK in the same
  // Lua script): there is no window between commit and ack to lose.
  stack.start_node(0);
  auto outcome = stack.wait_for_outcome(cs);
  EXPECT_EQ(outcome["status"], "complete");
  expect_exactly_once(stack, cs);
}

TEST_F(crash_points_test, after_webhook_sent_before_recorded) {
  stack_options opts;
  opts.store = true;
  psp_stack stack{opts};
  // The default 60 s lease: the restarted node frees the claims of its
  // previous life at once, so the resend comes well within the waits below.
  std::vector<std::string> lease{"--psp.webhook-lease-ms=60000"};
  start_armed(stack, "after_webhook_sent", lease);
  auto url = stack.store_buy();
  auto cs = url.substr(url.rfind('/') + 1);
  stack.pay(cs);
  ASSERT_TRUE(armed_died());
  stack.start_node(0, lease);
  ASSERT_TRUE(wait_until(
      [&] {
        auto orders = stack.store_orders()["orders"];
        return !orders.empty() && orders[0]["status"] == "paid" &&
               orders[0]["events"].size() >= 2;
      },
      20s));
  // Every delivery ends recorded as delivered; the store saw the resent
  // one as a duplicate of the same event id.
  ASSERT_TRUE(wait_until(
      [&] { return stack.all_webhooks_delivered(); }, 20s));
  auto stats = stack.store_stats();
  EXPECT_GE(stats["duplicates"].get<int>(), 1) << "the crash lost the record";
  EXPECT_EQ(stats["webhooks_rejected"].get<int>(), 0);
  std::set<std::string> ids;
  auto orders = stack.store_orders(); // keep the document alive for the loop
  for (auto& e : orders["orders"][0]["events"]) {
    ids.insert(e["id"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), 2u);
  expect_exactly_once(stack, cs);
}

TEST_F(crash_points_test, after_key_claim_frees_the_key_after_its_lease) {
  psp_stack stack;
  std::vector<std::string> lease{"--psp.idempotency-lease-ms=1000"};
  start_armed(stack, "after_key_claim", lease);
  auto req = create_intent_with_key(stack, "order-crash-1");
  EXPECT_EQ(http_call(stack.node_url(), req).status, 0);
  ASSERT_TRUE(armed_died());
  stack.start_node(0, lease);
  http_reply created;
  ASSERT_TRUE(wait_until(
      [&] {
        created = http_call(stack.node_url(), req);
        EXPECT_TRUE(created.status == 200 || created.status == 409)
            << created.status << " " << created.body;
        return created.status == 200;
      },
      10s, 100ms));
  EXPECT_EQ(stack.redis_keys("pi:*").size(), 1u);
  auto again = http_call(stack.node_url(), req);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(again.body, created.body);
}

TEST_F(crash_points_test, a_key_held_by_a_dead_cluster_node_frees_with_its_registration) {
  // The default 60 s lease: only the node's lapsed registration (1.5 s in
  // tests) can free the key within the wait below.
  stack_options opts;
  opts.nodes = 2;
  opts.cluster = true;
  psp_stack stack{opts};
  start_armed(stack, "after_key_claim");
  ASSERT_TRUE(wait_until(
    [&] { return !stack.redis_keys("cluster:node:node-0").empty(); }, 20s));
  auto req = create_intent_with_key(stack, "order-crash-cluster");
  EXPECT_EQ(http_call(stack.node_url(0), req).status, 0);
  ASSERT_TRUE(armed_died());
  http_reply created;
  ASSERT_TRUE(wait_until(
    [&] {
      created = http_call(stack.node_url(1), req);
      return created.status == 200;
    },
    15s, 100ms))
    << created.status << " " << created.body;
  EXPECT_EQ(stack.redis_keys("pi:*").size(), 1u);
  auto again = http_call(stack.node_url(1), req);
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(again.body, created.body);
}

TEST_F(crash_points_test, after_handler_before_the_answer_is_stored) {
  psp_stack stack;
  std::vector<std::string> lease{"--psp.idempotency-lease-ms=1000"};
  start_armed(stack, "after_handler", lease);
  auto req = create_intent_with_key(stack, "order-crash-2");
  EXPECT_EQ(http_call(stack.node_url(), req).status, 0);
  ASSERT_TRUE(armed_died());
  ASSERT_EQ(stack.redis_keys("pi:*").size(), 1u) << "the intent was written";
  auto written = stack.redis_keys("pi:*")[0].substr(3);
  stack.start_node(0, lease);
  http_reply retried;
  ASSERT_TRUE(wait_until(
    [&] {
      retried = http_call(stack.node_url(), req);
      return retried.status == 200;
    },
    10s, 100ms));
  // The retry re-ran the request (its answer was never stored) and found
  // the intent its first run wrote, instead of creating a second one.
  EXPECT_EQ(retried.body_json()["id"], written);
  EXPECT_EQ(stack.redis_keys("pi:*").size(), 1u);
}

TEST_F(crash_points_test, a_503_after_the_write_lets_the_retry_find_the_payment) {
  // Redis failing after the handler queued the charge answers 503; the
  // retry the 503 asks for (same key) must find that payment, not charge a
  // second one (found by a QA pass: a Redis restart charged twice).
  psp_stack stack;
  start_armed(stack, "after_handler", {}, "PSP_TEST_FAIL_AT");
  auto req = keyed_post(stack, "/v1/payment_intents",
                        {{"amount", "1700"},
                         {"currency", "usd"},
                         {"payment_method", "pm_card_visa"},
                         {"confirm", "true"}},
                        "order-fail-1");
  auto failed = http_call(stack.node_url(), req);
  ASSERT_EQ(failed.status, 503) << failed.body;
  ASSERT_EQ(stack.redis_keys("pi:*").size(), 1u) << "the intent was written";
  auto written = stack.redis_keys("pi:*")[0].substr(3);
  armed_->stop();
  stack.start_node(0);
  auto retried = http_call(stack.node_url(), req);
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.body_json()["id"], written);
  EXPECT_EQ(retried.body_json()["status"], "succeeded");
  EXPECT_EQ(stack.redis_keys("pi:*").size(), 1u);
  EXPECT_EQ(stack.sim_charge_count(written), 1);
  // Now stored: a replay.
  auto again = http_call(stack.node_url(), req);
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
}

TEST_F(crash_points_test, a_capture_retried_after_a_crash_answers_the_capture) {
  psp_stack stack;
  auto held = stack.api_post("/v1/payment_intents",
                             {{"amount", "5000"},
                              {"currency", "usd"},
                              {"capture_method", "manual"},
                              {"payment_method", "pm_card_visa"},
                              {"confirm", "true"}});
  ASSERT_EQ(held.status, 200) << held.body;
  auto pi = held.body_json()["id"].get<std::string>();
  ASSERT_EQ(held.body_json()["status"], "requires_capture");
  std::vector<std::string> lease{"--psp.idempotency-lease-ms=1000"};
  start_armed(stack, "after_handler", lease);
  auto capture = keyed_post(stack, "/v1/payment_intents/" + pi + "/capture",
                            {{"amount_to_capture", "3000"}}, "capture-crash-1");
  EXPECT_EQ(http_call(stack.node_url(), capture).status, 0);
  ASSERT_TRUE(armed_died());
  stack.start_node(0, lease);
  http_reply retried;
  ASSERT_TRUE(wait_until(
    [&] {
      retried = http_call(stack.node_url(), capture);
      return retried.status != 409;
    },
    10s, 100ms));
  // The capture the first run made, not "it has a status of succeeded".
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.body_json()["status"], "succeeded");
  EXPECT_EQ(retried.body_json()["amount_received"], 3000);
  // A capture by another key is still refused.
  capture.headers = {{"Idempotency-Key", "capture-crash-2"}};
  EXPECT_EQ(http_call(stack.node_url(), capture).status, 400);
}

TEST_F(crash_points_test, create_checkout_killed_before_answering_replays) {
  // Session, intent and answer are one Redis step: a node killed right
  // after it answers the retry from the stored answer, at once.
  psp_stack stack;
  start_armed(stack, "after_create_session");
  auto req = create_with_key(stack, "order-crash-3");
  EXPECT_EQ(http_call(stack.node_url(), req).status, 0);
  ASSERT_TRUE(armed_died());
  ASSERT_EQ(stack.redis_keys("cs:*").size(), 1u) << "the session was written";
  auto written = stack.redis_keys("cs:*")[0].substr(3);
  stack.start_node(0);
  auto retried = http_call(stack.node_url(), req);
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(retried.body_json()["id"], written);
  EXPECT_EQ(stack.redis_keys("cs:*").size(), 1u);
  EXPECT_EQ(stack.redis_keys("pi:*").size(), 1u);
}

// A run that stalls (a VM pause, swap) between its checks and its write,
// past its key's lease, wakes after the client's retry took the key over
// and finished the payment. Its late write must find what the retry did,
// not redo it: found by a fault probe (a node SIGSTOPped mid-request), the
// charge was booked twice in the ledger and the refund counted twice.
TEST_F(crash_points_test, a_create_and_confirm_that_stalls_past_its_lease_books_once) {
  psp_stack stack;
  start_armed(stack, "before_intent_write:4000",
              {"--psp.idempotency-lease-ms=1500"}, "PSP_TEST_PAUSE_AT");
  auto req = keyed_post(stack, "/v1/payment_intents",
                        {{"amount", "1700"},
                         {"currency", "usd"},
                         {"payment_method", "pm_card_visa"},
                         {"confirm", "true"}},
                        "order-stall-1");
  auto [stalled, retried] = stall_and_retry(stack, req);
  ASSERT_EQ(retried.status, 200) << retried.body;
  auto id = retried.body_json().value("id", "");
  ASSERT_TRUE(wait_until(
      [&] { return stack.redis_hash("pi:" + id)["status"] == "succeeded"; },
      10s));
  ASSERT_EQ(stalled.status, 200) << stalled.body;
  EXPECT_EQ(stalled.body_json().value("id", ""), id);
  EXPECT_EQ(stalled.body_json().value("status", ""), "succeeded");
  std::this_thread::sleep_for(500ms); // a second commit, were one queued
  EXPECT_EQ(stack.redis_hash("pi:" + id)["status"], "succeeded");
  EXPECT_EQ(stack.redis_keys("pi:*").size(), 1u);
  EXPECT_EQ(stack.sim_charge_count(id), 1);
  EXPECT_EQ(ledger_entries(stack, id, "charge"), 1)
    << "the charge is booked once";
  EXPECT_TRUE(stack.ledger_balanced());
  EXPECT_EQ(stack.payment_stream_len(), 0);
}

TEST_F(crash_points_test, a_refund_that_stalls_past_its_lease_books_once) {
  psp_stack stack;
  start_armed(stack, "before_refund_reserve:4000",
              {"--psp.idempotency-lease-ms=1500"}, "PSP_TEST_PAUSE_AT");
  auto paid = stack.api_post("/v1/payment_intents",
                             {{"amount", "3000"},
                              {"currency", "usd"},
                              {"payment_method", "pm_card_visa"},
                              {"confirm", "true"}});
  ASSERT_EQ(paid.status, 200) << paid.body;
  auto pi = paid.body_json().value("id", "");
  ASSERT_TRUE(wait_until(
      [&] { return stack.redis_hash("pi:" + pi)["status"] == "succeeded"; },
      10s));
  auto req = keyed_post(stack, "/v1/refunds",
                        {{"payment_intent", pi}, {"amount", "1000"}},
                        "refund-stall-1");
  auto [stalled, retried] = stall_and_retry(stack, req);
  ASSERT_EQ(retried.status, 200) << retried.body;
  auto re = retried.body_json().value("id", "");
  ASSERT_EQ(stalled.status, 200) << stalled.body;
  EXPECT_EQ(stalled.body_json().value("id", ""), re);
  ASSERT_TRUE(wait_until(
      [&] { return stack.redis_hash("re:" + re)["status"] == "succeeded"; },
      10s));
  std::this_thread::sleep_for(500ms); // a second commit, were one queued
  auto intent = stack.redis_hash("pi:" + pi);
  EXPECT_EQ(intent["amount_refunded"], "1000") << "the refund counted once";
  EXPECT_TRUE(intent["refund_pending"].empty()
              || intent["refund_pending"] == "0")
    << intent["refund_pending"];
  EXPECT_EQ(stack.redis_keys("re:*").size(), 1u);
  EXPECT_EQ(ledger_entries(stack, pi, "refund"), 1)
    << "the refund is booked once";
  EXPECT_TRUE(stack.ledger_balanced());
  // What is left can still be refunded.
  auto rest = stack.api_post("/v1/refunds",
                             {{"payment_intent", pi}, {"amount", "2000"}});
  EXPECT_EQ(rest.status, 200) << rest.body;
}

TEST_F(crash_points_test, a_refund_read_before_the_payment_committed_is_rebuilt) {
  // A refund reads the intent while its confirm is still at the network (no
  // charge, nothing received) and reserves after it committed. Sent as
  // read, it would name no charge at the network (failed for nothing), or,
  // without an amount, refund 0 (found by a race audit).
  psp_stack stack;
  for (std::string amount : {"400", ""}) {
    SCOPED_TRACE("amount '" + amount + "'");
    // The pause point holds the first refund a process runs.
    start_armed(stack, "before_refund_reserve:2500", {}, "PSP_TEST_PAUSE_AT");
    auto created = stack.api_post("/v1/payment_intents",
                                  {{"amount", "1000"}, {"currency", "usd"}});
    ASSERT_EQ(created.status, 200) << created.body;
    auto pi = created.body_json().value("id", "");
    ASSERT_EQ(stack.sim_faults({{"latency_ms", 1500}}).status, 200);
    std::thread confirm{[&] {
      stack.api_post("/v1/payment_intents/" + pi + "/confirm",
                     {{"payment_method", "pm_card_visa"}});
    }};
    EXPECT_TRUE(wait_until(
      [&] { return stack.redis_hash("pi:" + pi)["status"] == "processing"; },
      5s, 20ms));
    form_fields form{{"payment_intent", pi}};
    if (!amount.empty()) {
      form.push_back({"amount", amount});
    }
    http_reply refund;
    std::thread refunding{
      [&] { refund = stack.api_post("/v1/refunds", form); }};
    confirm.join();
    EXPECT_EQ(stack.redis_hash("pi:" + pi)["status"], "succeeded");
    stack.sim_faults({{"latency_ms", 0}});
    refunding.join();
    ASSERT_EQ(refund.status, 200) << refund.body;
    EXPECT_EQ(refund.body_json().value("amount", 0),
              amount.empty() ? 1000 : 400)
      << refund.body;
    auto id = refund.body_json().value("id", "");
    ASSERT_TRUE(wait_until(
      [&] { return stack.redis_hash("re:" + id)["status"] == "succeeded"; },
      10s))
      << stack.redis_hash("re:" + id)["failure_reason"];
    EXPECT_EQ(stack.redis_hash("pi:" + pi)["amount_refunded"],
              amount.empty() ? "1000" : "400");
    EXPECT_EQ(ledger_entries(stack, pi, "refund"), 1);
    armed_->stop();
    armed_.reset();
    stack.start_node(0);
  }
  EXPECT_TRUE(stack.ledger_balanced());
}

TEST_F(crash_points_test, a_declined_confirm_retried_after_another_card_paid) {
  // A confirm declined, its answer lost (503); another card paid the intent
  // meanwhile. The retry with the first key must answer that decline, not
  // the other card's payment (found by a race audit: a declining card was
  // told 200 processing, and its key replayed that for a day).
  psp_stack stack;
  auto created = stack.api_post("/v1/payment_intents",
                                {{"amount", "1000"}, {"currency", "usd"}});
  ASSERT_EQ(created.status, 200) << created.body;
  auto pi = created.body_json().value("id", "");
  auto path = "/v1/payment_intents/" + pi + "/confirm";
  start_armed(stack, "after_handler", {}, "PSP_TEST_FAIL_AT");
  auto declined = keyed_post(stack, path,
                             {{"payment_method", "pm_card_chargeDeclined"}},
                             "confirm-declined-1");
  ASSERT_EQ(http_call(stack.node_url(), declined).status, 503);
  ASSERT_EQ(stack.redis_hash("pi:" + pi)["status"],
            "requires_payment_method");
  armed_->stop();
  stack.start_node(0);
  auto paid = keyed_post(stack, path, {{"payment_method", "pm_card_visa"}},
                         "confirm-paid-1");
  ASSERT_EQ(http_call(stack.node_url(), paid).status, 200);
  auto retried = http_call(stack.node_url(), declined);
  ASSERT_EQ(retried.status, 402) << retried.body;
  auto e = retried.body_json()["error"];
  EXPECT_EQ(e.value("type", ""), "card_error");
  EXPECT_EQ(e.value("code", ""), "card_declined");
  EXPECT_EQ(e.value("decline_code", ""), "generic_decline");
  EXPECT_EQ(e.value("message", ""), "Your card was declined.");
  // The intent as it stands rides along, as Stripe's errors carry it.
  EXPECT_EQ(e["payment_intent"].value("status", ""), "succeeded");
  EXPECT_EQ(stack.sim_charge_count(pi), 1);
}

TEST_F(crash_points_test, a_late_endpoint_create_brings_back_nothing) {
  // The retry creates the endpoint and the merchant works with it: updates
  // it, then deletes it. A run of the same create that stalled and wakes
  // after each must leave it as the merchant did (found by an audit: the
  // late run rewrote the endpoint with a secret nobody was told, or
  // brought a deleted one back).
  psp_stack stack;
  for (auto* then : {"update", "delete"}) {
    SCOPED_TRACE(then);
    start_armed(stack, "before_endpoint_write:4000",
                {"--psp.idempotency-lease-ms=1500"}, "PSP_TEST_PAUSE_AT");
    auto req = keyed_post(stack, "/v1/webhook_endpoints",
                          {{"url", "https://hooks.example/first"},
                           {"enabled_events[]", "*"}},
                          std::string{"endpoint-stall-"} + then);
    std::string id;
    std::string secret;
    auto [stalled, retried] =
      stall_and_retry(stack, req, [&](const http_reply& created) {
        id = created.body_json().value("id", "");
        secret = created.body_json().value("secret", "");
        if (std::string{then} == "update") {
          auto moved = stack.api_post("/v1/webhook_endpoints/" + id,
                                      {{"url", "https://hooks.example/moved"}});
          EXPECT_EQ(moved.status, 200) << moved.body;
        } else {
          EXPECT_EQ(delete_endpoint(stack, id).status, 200);
        }
      });
    ASSERT_EQ(retried.status, 200) << retried.body;
    auto now = stack.redis_hash("we:" + id);
    if (std::string{then} == "update") {
      EXPECT_EQ(stalled.status, 200) << stalled.body;
      EXPECT_EQ(now["url"], "https://hooks.example/moved");
      EXPECT_EQ(now["secret"], secret) << "the secret the merchant was given";
    } else {
      EXPECT_EQ(stalled.status, 404) << stalled.body;
      EXPECT_TRUE(now.empty()) << "a deleted endpoint came back";
      auto set = stack.redis_cmd(
        {"SISMEMBER", "merchant:" + stack.merchant().id + ":endpoints", id});
      EXPECT_EQ(set ? set->number : -1, 0);
    }
    armed_->stop();
    armed_.reset();
  }
}

TEST_F(crash_points_test, an_update_racing_a_delete_does_not_revive_the_endpoint) {
  psp_stack stack;
  start_armed(stack, "before_endpoint_update:1500", {}, "PSP_TEST_PAUSE_AT");
  auto made = stack.api_post("/v1/webhook_endpoints",
                             {{"url", "https://hooks.example/a"},
                              {"enabled_events[]", "*"}});
  ASSERT_EQ(made.status, 200) << made.body;
  auto id = made.body_json().value("id", "");
  auto before = pause_lines(stack);
  http_reply update;
  std::thread first{[&] {
    update = stack.api_post("/v1/webhook_endpoints/" + id,
                            {{"url", "https://hooks.example/b"},
                             {"disabled", "false"}});
  }};
  EXPECT_TRUE(paused(stack, before));
  ASSERT_EQ(delete_endpoint(stack, id).status, 200);
  first.join();
  EXPECT_EQ(update.status, 404) << update.body;
  EXPECT_TRUE(stack.redis_hash("we:" + id).empty())
    << "a hash without merchant or secret was brought back";
}

} // namespace
} // namespace psp::test
