// Goal: no payment or webhook is lost and none is charged twice when the card
// network or the merchant's endpoint fails: retries with the idempotency key
// recover, exhausted work lands in the dead-letter stream and replays.

#include "tests/support/psp_stack.hpp"
#include "tests/support/store_orders.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <thread>

namespace psp::test {
namespace {

std::string session_of(const std::string& page_url) {
  return page_url.substr(page_url.rfind('/') + 1);
}

/// Every webhook delivery is recorded as delivered (and there is one).
bool all_delivered(psp_stack& stack) {
  auto deliveries = stack.webhook_deliveries();
  return !deliveries.empty()
         && std::all_of(deliveries.begin(), deliveries.end(), [](auto& d) {
              return d.second.status == "delivered";
            });
}

std::string intent_status(psp_stack& stack, const std::string& pi_id) {
  return stack.api_get("/v1/payment_intents/" + pi_id)
      .body_json()
      .value("status", "");
}

/// POST /admin/dead_letters/<id>/discard with the admin token and `form`.
http_reply discard_dead_letter(psp_stack& stack, const std::string& entry_id,
                               const form_fields& form = {}) {
  return http_post_form(stack.node_url(),
                        "/admin/dead_letters/" + entry_id + "/discard", form,
                        stack.admin_token());
}

/// What /metrics says psp_dead_letters is (-1 when it is not there).
long long dead_letters_metric(psp_stack& stack) {
  auto text = http_get(stack.node_url(), "/metrics").body;
  auto at = text.find("\npsp_dead_letters ");
  return at == std::string::npos
           ? -1
           : std::stoll(text.substr(at + std::string{"\npsp_dead_letters "}
                                               .size()));
}

/// A series' value in /metrics, as "name" or "name{labels}" (-1: absent).
long long metric(psp_stack& stack, const std::string& series) {
  auto text = http_get(stack.node_url(), "/metrics").body;
  auto at = text.find("\n" + series + " ");
  return at == std::string::npos
           ? -1
           : std::stoll(text.substr(at + series.size() + 2));
}

/// A stack with the example store, whose webhooks die after two tries.
stack_options store_with_short_webhook_schedule() {
  stack_options opts;
  opts.store = true;
  opts.webhook_schedule = "0s,200ms";
  return opts;
}

/// Pays a checkout while the store refuses every webhook, and waits until
/// they are dead letters (empty after 15 s).
std::vector<json> dead_webhooks_of_a_failing_store(psp_stack& stack) {
  std::vector<json> dead;
  if (stack.store_faults({{"fail_all", true}}).status != 200) {
    ADD_FAILURE() << "the store took no faults";
    return dead;
  }
  auto cs = session_of(stack.store_buy("mug", 1));
  EXPECT_EQ(stack.pay(cs, "4242424242424242").status, 303);
  wait_until(
    [&] {
      dead = stack.dead_letters_of("webhook");
      return !dead.empty();
    },
    15s, 50ms);
  return dead;
}

/// The fields of each entry of a stream, oldest first.
std::vector<std::map<std::string, std::string>>
stream_entries(psp_stack& stack, const std::string& key) {
  std::vector<std::map<std::string, std::string>> out;
  auto all = stack.redis_cmd({"XRANGE", key, "-", "+"});
  for (auto& e : all ? all->elements : std::vector<redis_reply>{}) {
    auto& f = e.elements.at(1).elements;
    auto& fields = out.emplace_back();
    for (size_t i = 0; i + 1 < f.size(); i += 2) {
      fields[f[i].str] = f[i + 1].str;
    }
  }
  return out;
}

TEST(recovery, payment_waits_for_a_card_network_that_comes_back) {
  stack_options opts;
  // Enough retry budget (~15 s expected, jittered) to outlast a short outage.
  opts.network_tries_max = 30;
  opts.backoff_base_ms = 100;
  opts.backoff_max_ms = 1000;
  psp_stack stack{opts};
  auto session = stack.create_session(2500);
  auto cs = session["id"].get<std::string>();
  auto pi_id = session["payment_intent"].get<std::string>();

  stack.stop_sim();
  auto submitted = stack.pay(cs, "4242424242424242");
  ASSERT_EQ(submitted.status, 303) << submitted.body;
  // While the network is unreachable the payment neither succeeds nor fails.
  bool left_processing = wait_until(
      [&] {
        return stack.payment_status(cs).value("intent_status", "") !=
               "processing";
      },
      1500ms, 50ms);
  EXPECT_FALSE(left_processing) << stack.payment_status(cs).dump();
  EXPECT_EQ(intent_status(stack, pi_id), "processing");
  EXPECT_EQ(stack.payment_status(cs).value("status", ""), "open");

  stack.start_sim();
  auto outcome = stack.wait_for_outcome(cs, 20s);
  EXPECT_EQ(outcome.value("status", ""), "complete") << outcome.dump();
  EXPECT_EQ(intent_status(stack, pi_id), "succeeded");
  EXPECT_EQ(stack.sim_charge_count(pi_id), 1);
  EXPECT_TRUE(stack.dead_letters_of("payment").empty());
  EXPECT_TRUE(stack.ledger_balanced());
}

TEST(recovery, lost_answer_after_a_charge_is_retried_without_a_second_charge) {
  psp_stack stack;
  auto session = stack.create_session(4200);
  auto cs = session["id"].get<std::string>();
  auto pi_id = session["payment_intent"].get<std::string>();

  // The network charges, records the answer, then answers 500.
  auto set = stack.sim_faults({{"error_after_charge_rate", 1.0}});
  ASSERT_EQ(set.status, 200) << set.body;
  ASSERT_EQ(stack.pay(cs, "4242424242424242").status, 303);
  bool injected = wait_until(
      [&] { return stack.sim_stats().value("injected_errors", 0) >= 1; }, 10s);
  ASSERT_TRUE(injected) << stack.sim_stats().dump();
  ASSERT_EQ(stack.sim_faults({{"error_after_charge_rate", 0.0}}).status, 200);

  auto outcome = stack.wait_for_outcome(cs, 20s);
  EXPECT_EQ(outcome.value("status", ""), "complete") << outcome.dump();
  EXPECT_EQ(intent_status(stack, pi_id), "succeeded");
  EXPECT_EQ(stack.sim_charge_count(pi_id), 1);
  auto stats = stack.sim_stats();
  EXPECT_EQ(stats.value("charges", -1), 1) << stats.dump();
  // The retry carried the same idempotency key and got the stored answer.
  EXPECT_GE(stats.value("replays", 0), 1) << stats.dump();
  EXPECT_TRUE(stack.ledger_balanced());
  EXPECT_EQ(stack.redis_len("ledger:transactions"), 1);
  // The on-call audit grepped an intent's id and found nothing: its step's
  // outcome is one line, once, for all the retries, without card data.
  auto log = tail_file(stack.node_log(0), 2000);
  std::string line_start = "event=payment_step_committed op=charge "
                           "outcome=approved intent=" + pi_id + " ";
  auto first = log.find(line_start);
  EXPECT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find(line_start, first + 1), std::string::npos) << log;
  EXPECT_NE(log.find("amount_minor=4200 currency=usd charge=ch_", first),
            std::string::npos)
    << log;
  EXPECT_EQ(log.find("4242424242424242"), std::string::npos);
}

TEST(recovery, failing_webhooks_are_dead_lettered_and_replayed) {
  stack_options opts;
  opts.store = true;
  opts.webhook_schedule = "0s,200ms,500ms";
  psp_stack stack{opts};
  ASSERT_EQ(stack.store_faults({{"fail_all", true}}).status, 200);

  auto cs = session_of(stack.store_buy("mug", 1));
  ASSERT_EQ(stack.pay(cs, "4242424242424242").status, 303);
  auto outcome = stack.wait_for_outcome(cs);
  ASSERT_EQ(outcome.value("status", ""), "complete") << outcome.dump();

  // Every delivery of the payment's events runs out of tries.
  std::vector<json> dead;
  bool all_dead = wait_until(
      [&] {
        dead = stack.dead_letters_of("webhook");
        auto deliveries = stack.webhook_deliveries();
        return !deliveries.empty() && dead.size() == deliveries.size();
      },
      15s, 50ms);
  ASSERT_TRUE(all_dead) << stack.dead_letters().dump();
  auto deliveries = stack.webhook_deliveries();
  for (auto& d : dead) {
    auto& delivery = deliveries[d.value("ref", "")];
    EXPECT_EQ(delivery.status, "dead") << d.dump();
    EXPECT_EQ(delivery.attempts, "3") << d.dump();
    EXPECT_FALSE(delivery.last_error.empty()) << d.dump();
    EXPECT_FALSE(d.value("reason", "").empty()) << d.dump();
  }
  auto stats = stack.store_stats();
  EXPECT_EQ(stats.value("webhooks_faulted", int64_t{0}),
            static_cast<int64_t>(3 * dead.size()))
      << stats.dump();
  auto pending = order_for(stack.store_orders(), cs);
  ASSERT_TRUE(pending.is_object()) << "the store has no order for " << cs;
  EXPECT_EQ(pending.value("status", ""), "pending");

  ASSERT_EQ(stack.store_faults({{"fail_all", false}}).status, 200);
  for (auto& d : dead) {
    auto replay = stack.replay_dead_letter(d.value("id", ""));
    EXPECT_EQ(replay.status, 200) << replay.body;
    EXPECT_EQ(replay.body_json().value("result", ""), "replayed")
        << replay.body;
  }
  json order;
  bool paid = wait_until(
      [&] {
        order = order_for(stack.store_orders(), cs);
        return order.is_object() && order.value("status", "") == "paid" &&
               has_event(order, "checkout.session.completed");
      },
      10s, 50ms);
  EXPECT_TRUE(paid) << order.dump();
  EXPECT_TRUE(wait_until([&] { return all_delivered(stack); }, 10s, 50ms));
  EXPECT_TRUE(stack.dead_letters_of("webhook").empty());
  EXPECT_EQ(stack.store_stats().value("webhooks_rejected", -1), 0);
  // A replayed entry is gone: replaying it again is a 404.
  EXPECT_EQ(stack.replay_dead_letter(dead.front().value("id", "")).status, 404);
}

TEST(recovery, a_webhook_outcome_recorded_while_redis_hangs_is_kept) {
  stack_options opts;
  opts.store = true;
  opts.webhook_schedule = "0s,200ms,500ms";
  // The default lease: a dropped record would leave the deliveries for a
  // minute, far beyond the wait below.
  opts.node_args = {"--psp.webhook-lease-ms=60000",
                    "--psp.webhook-timeout-ms=10000"};
  psp_stack stack{opts};
  // The store holds the payment's two webhooks 1.5 s, then fails them;
  // meanwhile Redis hangs, so recording those failures times out.
  ASSERT_EQ(stack.store_faults({{"fail_next", 2}, {"delay_ms", 1500}}).status,
            200);
  auto cs = session_of(stack.store_buy("mug", 1));
  ASSERT_EQ(stack.pay(cs, "4242424242424242").status, 303);
  auto outcome = stack.wait_for_outcome(cs);
  ASSERT_EQ(outcome.value("status", ""), "complete") << outcome.dump();
  std::this_thread::sleep_for(300ms); // both deliveries at the store
  stack.redis().process().signal(SIGSTOP);
  std::this_thread::sleep_for(3500ms); // past the node's 2 s Redis timeout
  stack.redis().process().signal(SIGCONT);
  auto resumed = std::chrono::steady_clock::now();
  EXPECT_TRUE(wait_until([&] { return stack.all_webhooks_delivered(); }, 10s))
    << "the failed tries were not recorded: the deliveries wait out the lease";
  auto delivered_s = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - resumed)
                       .count();
  std::cout << "[ measure  ] webhooks delivered " << delivered_s
            << " s after Redis resumed" << std::endl;
  for (auto& [id, d] : stack.webhook_deliveries()) {
    EXPECT_EQ(d.attempts, "2") << id << ": one failed try, then delivered";
  }
}

TEST(recovery, a_damaged_delivery_record_is_still_sent_and_sending_goes_on) {
  stack_options opts;
  opts.store = true;
  opts.webhook_schedule = "0s,2s,2s,2s";
  // The default lease: were the delivery workers to die on the damaged
  // record, its batch would come back only after a minute.
  opts.node_args = {"--psp.webhook-lease-ms=60000"};
  psp_stack stack{opts};
  ASSERT_EQ(stack.store_faults({{"fail_all", true}}).status, 200);
  auto cs = session_of(stack.store_buy("mug", 1));
  ASSERT_EQ(stack.pay(cs, "4242424242424242").status, 303);
  ASSERT_EQ(stack.wait_for_outcome(cs).value("status", ""), "complete");
  ASSERT_TRUE(wait_until(
      [&] {
        auto deliveries = stack.webhook_deliveries();
        return !deliveries.empty()
               && std::all_of(deliveries.begin(), deliveries.end(),
                              [](auto& d) { return d.second.attempts == "1"; });
      },
      5s))
      << "the first tries were not recorded";
  // Damage what the claim step reads before the next try: the attempts
  // count and the event's created time are no longer numbers.
  for (auto& key : stack.redis_keys("evt:*")) {
    for (auto& [field, value] : stack.redis_hash(key)) {
      if (field.rfind("wh:", 0) == 0) {
        auto bar1 = value.find('|');
        auto bar2 = value.find('|', bar1 + 1);
        auto damaged = value.substr(0, bar1 + 1) + "x" + value.substr(bar2);
        ASSERT_TRUE(stack.redis_cmd({"HSET", key, field, damaged}));
      }
    }
    ASSERT_TRUE(stack.redis_cmd({"HSET", key, "created", "yesterday"}));
  }
  ASSERT_EQ(stack.store_faults({{"fail_all", false}}).status, 200);
  EXPECT_TRUE(wait_until([&] { return all_delivered(stack); }, 10s, 50ms))
      << "the damaged deliveries were not sent";
  // The node's delivery workers are still there: the next payment's
  // webhooks go out too.
  auto next = session_of(stack.store_buy("mug", 1));
  ASSERT_EQ(stack.pay(next, "4242424242424242").status, 303);
  json order;
  EXPECT_TRUE(wait_until(
      [&] {
        order = order_for(stack.store_orders(), next);
        return has_event(order, "checkout.session.completed");
      },
      10s, 50ms))
      << order.dump();
}

TEST(recovery, a_dead_webhook_of_a_deleted_endpoint_is_not_replayed) {
  psp_stack stack{store_with_short_webhook_schedule()};
  auto dead = dead_webhooks_of_a_failing_store(stack);
  ASSERT_FALSE(dead.empty());
  auto ref = dead.front().value("ref", "");
  auto event_path = "/v1/events/" + ref.substr(0, ref.find(':'));
  auto pending_webhooks = [&] {
    return stack.api_get(event_path).body_json().value("pending_webhooks", -1);
  };
  EXPECT_GE(pending_webhooks(), 1);
  auto endpoints = stack.api_get("/v1/webhook_endpoints").body_json();
  for (auto& e : endpoints["data"]) {
    http_request del;
    del.method = "DELETE";
    del.path = "/v1/webhook_endpoints/" + e["id"].get<std::string>();
    del.bearer = stack.secret_key();
    ASSERT_EQ(http_call(stack.node_url(), del).status, 200);
  }
  // At once, not when each delivery would next have come due (the API
  // audit saw a deleted endpoint's delivery counted until its next try).
  EXPECT_EQ(pending_webhooks(), 0);
  auto replay = stack.replay_dead_letter(dead.front().value("id", ""));
  EXPECT_EQ(replay.status, 409) << replay.body;
  EXPECT_EQ(replay.body_json()["error"].value("code", ""), "endpoint_deleted");
  EXPECT_FALSE(stack.dead_letters_of("webhook").empty()) << "kept, not lost";

  // Nothing can deliver them any more: the operator discards them, and the
  // count goes back to zero. Once no delivery is left to die, the list is
  // final.
  ASSERT_TRUE(wait_until(
    [&] {
      auto due = stack.redis_cmd({"ZCARD", "webhooks:due"});
      auto claimed = stack.redis_cmd({"HLEN", "webhooks:claims"});
      return due && due->number == 0 && claimed && claimed->number == 0;
    },
    10s, 50ms));
  dead = stack.dead_letters_of("webhook");
  ASSERT_GE(dead.size(), 2u);
  ASSERT_EQ(dead_letters_metric(stack), static_cast<long long>(dead.size()));
  {
    auto& d = dead.front();
    auto gone = discard_dead_letter(stack, d.value("id", ""));
    ASSERT_EQ(gone.status, 200) << gone.body;
    auto body = gone.body_json();
    // The answer is what was discarded.
    EXPECT_EQ(body.value("result", ""), "discarded") << gone.body;
    EXPECT_EQ(body.value("id", ""), d.value("id", ""));
    EXPECT_EQ(body.value("kind", ""), "webhook");
    EXPECT_EQ(body.value("ref", ""), d.value("ref", ""));
    EXPECT_EQ(body.value("reason", ""), d.value("reason", ""));
    EXPECT_EQ(body["created"], d["created"]);
    EXPECT_TRUE(body["discarded"].is_number_integer()) << gone.body;
    EXPECT_EQ(body["forced"], false) << gone.body;
  }
  // The rest of the deleted endpoint's in one call (the operator audit
  // cleared 303 with single discards).
  auto bulk = [&](const form_fields& form) {
    return http_post_form(stack.node_url(), "/admin/dead_letters/discard",
                          form, stack.admin_token());
  };
  auto endpoint = ref.substr(ref.find(':') + 1);
  EXPECT_EQ(bulk({{"kind", "webhook"}, {"endpoint", "nope"}}).status, 400);
  // Never read as "every endpoint" (the re-test's script with an unset
  // variable discarded every endpoint's dead webhooks).
  EXPECT_EQ(bulk({{"kind", "webhook"}, {"endpoint", ""}}).status, 400);
  EXPECT_EQ(bulk({{"kind", "webhook"}, {"endpoint[]", endpoint}}).status, 400);
  EXPECT_EQ(http_post_form(stack.node_url(),
                           "/admin/dead_letters/discard?endpoint=we_other",
                           {{"kind", "webhook"}}, stack.admin_token())
              .body_json()
              .value("matched", -1),
            0)
    << "the query's endpoint is read, not dropped";
  EXPECT_EQ(http_get(stack.node_url(), "/admin/dead_letters?kind=payment",
                     stack.admin_token())
              .status,
            400)
    << "the list does not filter: an unknown parameter is refused";
  EXPECT_EQ(bulk({{"kind", "webhook"}, {"force", "true"}}).status, 400)
    << "no bulk force";
  auto rest = bulk({{"kind", "webhook"}, {"endpoint", endpoint}});
  ASSERT_EQ(rest.status, 200) << rest.body;
  EXPECT_EQ(rest.body_json().value("object", ""), "dead_letter_discard");
  EXPECT_EQ(rest.body_json().value("matched", -1),
            static_cast<int64_t>(dead.size()) - 1)
    << rest.body;
  EXPECT_EQ(rest.body_json()["results"].value("discarded", -1),
            static_cast<int64_t>(dead.size()) - 1)
    << rest.body;
  EXPECT_FALSE(rest.body_json().value("has_more", true));
  EXPECT_TRUE(stack.dead_letters().value("data", json::array()).empty());
  EXPECT_EQ(dead_letters_metric(stack), 0);
  // Each is kept in the trail of discards, and gone for good.
  auto trail = stream_entries(stack, "stream:deadletter:discarded");
  ASSERT_EQ(trail.size(), dead.size());
  EXPECT_EQ(trail[0]["entry"], dead[0].value("id", ""));
  EXPECT_EQ(trail[0]["ref"], dead[0].value("ref", ""));
  EXPECT_EQ(trail[0]["forced"], "0");
  auto again = discard_dead_letter(stack, dead[0].value("id", ""));
  EXPECT_EQ(again.status, 404) << again.body;
  EXPECT_EQ(again.body_json()["error"].value("code", ""), "resource_missing");
}

TEST(recovery, a_dead_webhook_of_a_disabled_endpoint_waits_for_it) {
  // A replay to a disabled endpoint would be dropped unsent by the next
  // claim: it is refused and kept, and goes out once the endpoint is
  // enabled again.
  psp_stack stack{store_with_short_webhook_schedule()};
  auto dead = dead_webhooks_of_a_failing_store(stack);
  ASSERT_FALSE(dead.empty());
  auto endpoints = stack.api_get("/v1/webhook_endpoints").body_json();
  ASSERT_FALSE(endpoints["data"].empty());
  auto set_disabled = [&](const char* value) {
    for (auto& e : endpoints["data"]) {
      auto r = stack.api_post(
        "/v1/webhook_endpoints/" + e["id"].get<std::string>(),
        {{"disabled", value}});
      ASSERT_EQ(r.status, 200) << r.body;
    }
  };
  // Every failed try is counted, and the one whose tries ran out.
  EXPECT_GE(metric(stack, "psp_webhook_attempts_total{outcome=\"failed\"}"),
            2);
  EXPECT_GE(metric(stack, "psp_webhook_dead_lettered_total"), 1);
  auto ref = dead.front().value("ref", "");
  auto event_id = ref.substr(0, ref.find(':'));
  // Stripe's pending_webhooks: a dead-lettered delivery is not delivered,
  // but one whose endpoint is disabled will not go out while it is.
  auto pending_webhooks = [&] {
    return stack.api_get("/v1/events/" + event_id)
      .body_json()
      .value("pending_webhooks", -1);
  };
  EXPECT_GE(pending_webhooks(), 1);
  set_disabled("true");
  EXPECT_EQ(pending_webhooks(), 0);
  ASSERT_EQ(stack.store_faults({{"fail_all", false}}).status, 200);
  auto id = dead.front().value("id", "");
  auto replay = stack.replay_dead_letter(id);
  EXPECT_EQ(replay.status, 409) << replay.body;
  EXPECT_EQ(replay.body_json()["error"].value("code", ""), "endpoint_disabled");
  auto kept = stack.dead_letters_of("webhook");
  ASSERT_TRUE(std::any_of(kept.begin(), kept.end(), [&](const json& d) {
    return d.value("id", "") == id;
  })) << "kept, not lost";

  set_disabled("false");
  EXPECT_GE(pending_webhooks(), 1);
  replay = stack.replay_dead_letter(id);
  ASSERT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(replay.body_json().value("result", ""), "replayed");
  EXPECT_TRUE(wait_until(
    [&] {
      auto orders = stack.store_orders();
      return orders.dump().find(event_id) != std::string::npos;
    },
    10s, 50ms))
    << "the replayed delivery of " << event_id << " did not reach the store";
  EXPECT_TRUE(wait_until([&] { return pending_webhooks() == 0; }, 5s, 50ms))
    << pending_webhooks();
  EXPECT_TRUE(wait_until(
    [&] {
      return metric(stack,
                    "psp_webhook_attempts_total{outcome=\"delivered\"}")
             >= 1;
    },
    5s, 50ms));
}

// Before decision 21 a delivery was a hash of its own; one still pending
// after an upgrade is sent and moved into its event's hash.
TEST(recovery, a_pending_delivery_of_an_earlier_version_is_sent_and_moved) {
  stack_options opts;
  opts.store = true;
  psp_stack stack{opts};
  auto cs = session_of(stack.store_buy("mug", 1));
  ASSERT_EQ(stack.pay(cs, "4242424242424242").status, 303);
  ASSERT_TRUE(wait_until([&] { return all_delivered(stack); }, 10s, 50ms));

  auto did = stack.webhook_deliveries().begin()->first;
  auto event = did.substr(0, did.find(':'));
  auto endpoint = did.substr(did.find(':') + 1);
  ASSERT_TRUE(stack.redis_cmd({"HDEL", "evt:" + event, "wh:" + endpoint}));
  ASSERT_TRUE(stack.redis_cmd({"HSET", "wh:" + did, "event", event,
                               "endpoint", endpoint, "attempts", "0",
                               "status", "pending", "created", "1"}));
  auto duplicates = stack.store_stats().value("duplicates", int64_t{-1});
  ASSERT_TRUE(stack.redis_cmd({"ZADD", "webhooks:due", "0", did}));

  EXPECT_TRUE(wait_until(
      [&] {
        return stack.webhook_deliveries()[did].status == "delivered"
               && stack.redis_keys("wh:*").empty();
      },
      10s, 50ms))
      << stack.redis_hash("evt:" + event).count("wh:" + endpoint);
  EXPECT_EQ(stack.webhook_deliveries()[did].attempts, "1");
  EXPECT_EQ(stack.store_stats().value("duplicates", int64_t{-1}),
            duplicates + 1);
}

TEST(recovery, exhausted_payment_is_dead_lettered_then_replayed_once) {
  stack_options opts;
  opts.network_tries_max = 2;
  opts.backoff_base_ms = 50;
  psp_stack stack{opts};
  auto session = stack.create_session(999);
  auto cs = session["id"].get<std::string>();
  auto pi_id = session["payment_intent"].get<std::string>();

  stack.stop_sim();
  ASSERT_EQ(stack.pay(cs, "4242424242424242").status, 303);
  auto dead = stack.wait_for_dead_letters("payment", 15s);
  ASSERT_FALSE(dead.empty()) << stack.dead_letters().dump();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].value("intent", ""), pi_id) << dead[0].dump();
  // Not charged, not failed: the outcome is unknown, so it stays processing.
  EXPECT_EQ(intent_status(stack, pi_id), "processing");
  EXPECT_EQ(stack.payment_status(cs).value("status", ""), "open");
  EXPECT_EQ(stack.redis_len("ledger:transactions"), 0);

  // Discarding it would leave the payment unresolved: refused without
  // force, and the entry stays replayable.
  auto refused = discard_dead_letter(stack, dead[0].value("id", ""));
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.body_json()["error"].value("code", ""),
            "payment_unresolved")
    << refused.body;
  EXPECT_EQ(stack.dead_letters_of("payment").size(), 1u);

  stack.start_sim();
  auto replay = stack.replay_dead_letter(dead[0].value("id", ""));
  ASSERT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(replay.body_json().value("kind", ""), "payment") << replay.body;
  auto outcome = stack.wait_for_outcome(cs, 20s);
  EXPECT_EQ(outcome.value("status", ""), "complete") << outcome.dump();
  EXPECT_EQ(intent_status(stack, pi_id), "succeeded");
  EXPECT_EQ(stack.sim_charge_count(pi_id), 1);
  EXPECT_TRUE(stack.dead_letters_of("payment").empty());
  EXPECT_TRUE(stack.ledger_balanced());

  // A payment dead letter whose step is final by now (settled since it was
  // buried) leaves nothing unresolved: it goes without force.
  auto left = stack.redis_cmd({"XADD", "stream:deadletter", "*", "kind",
                               "payment", "ref", dead[0].value("ref", ""),
                               "intent", pi_id, "reason", "left behind",
                               "created", "1796114908"});
  ASSERT_TRUE(left && left->ok());
  auto gone = discard_dead_letter(stack, left->str);
  ASSERT_EQ(gone.status, 200) << gone.body;
  EXPECT_EQ(gone.body_json()["forced"], false) << gone.body;
  EXPECT_EQ(gone.body_json()["created"], 1796114908) << gone.body;
  EXPECT_TRUE(stack.dead_letters_of("payment").empty());
}

TEST(recovery, the_dead_webhooks_of_a_fixed_endpoint_are_replayed_at_once) {
  // The on-call audit replayed 75 dead letters of one endpoint one by one.
  psp_stack stack{store_with_short_webhook_schedule()};
  auto dead = dead_webhooks_of_a_failing_store(stack);
  ASSERT_GE(dead.size(), 2u);
  auto ref = dead.front().value("ref", "");
  auto endpoint = ref.substr(ref.find(':') + 1);
  auto replay = [&](const form_fields& form) {
    return http_post_form(stack.node_url(), "/admin/dead_letters/replay", form,
                          stack.admin_token());
  };
  EXPECT_EQ(replay({{"kind", "everything"}}).status, 400);
  EXPECT_EQ(replay({{"kind", "payment"}, {"endpoint", endpoint}}).status, 400);
  EXPECT_EQ(replay({{"kind", "webhook"}, {"endpoint", "we_other"}})
              .body_json()
              .value("matched", -1),
            0);
  EXPECT_EQ(replay({{"kind", "webhook"}, {"since", "1"}}).status, 400);
  EXPECT_EQ(http_post_form(stack.node_url(), "/admin/dead_letters/replay",
                           {{"kind", "webhook"}})
              .status,
            401);
  ASSERT_EQ(stack.store_faults({{"fail_all", false}}).status, 200);
  auto first = replay({{"kind", "webhook"}, {"endpoint", endpoint},
                       {"limit", "1"}});
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.body_json().value("matched", -1), 1);
  EXPECT_EQ(first.body_json()["results"].value("replayed", -1), 1);
  EXPECT_TRUE(first.body_json().value("has_more", false));
  auto rest = replay({{"kind", "webhook"}, {"endpoint", endpoint}});
  ASSERT_EQ(rest.status, 200) << rest.body;
  EXPECT_EQ(rest.body_json().value("matched", -1),
            static_cast<int64_t>(dead.size()) - 1)
    << rest.body;
  EXPECT_FALSE(rest.body_json().value("has_more", true));
  EXPECT_TRUE(stack.dead_letters_of("webhook").empty());
  EXPECT_TRUE(wait_until([&] { return stack.all_webhooks_delivered(); }, 10s,
                         50ms));
}

TEST(recovery, an_unresolved_payment_dead_letter_is_discarded_only_by_force) {
  stack_options opts;
  opts.network_tries_max = 2;
  opts.backoff_base_ms = 50;
  psp_stack stack{opts};
  auto session = stack.create_session(1234);
  auto cs = session["id"].get<std::string>();
  auto pi_id = session["payment_intent"].get<std::string>();
  stack.stop_sim();
  ASSERT_EQ(stack.pay(cs, "4242424242424242").status, 303);
  auto dead = stack.wait_for_dead_letters("payment", 15s);
  ASSERT_FALSE(dead.empty()) << stack.dead_letters().dump();
  auto id = dead[0].value("id", "");

  auto refused = discard_dead_letter(stack, id);
  ASSERT_EQ(refused.status, 409) << refused.body;
  auto e = refused.body_json()["error"];
  EXPECT_EQ(e.value("type", ""), "invalid_request_error");
  EXPECT_EQ(e.value("code", ""), "payment_unresolved");
  EXPECT_EQ(e.value("param", ""), "force");
  // It names the payment and the way out.
  auto message = e.value("message", "");
  EXPECT_NE(message.find("a payment step (charge)"), std::string::npos)
    << message;
  EXPECT_NE(message.find(pi_id), std::string::npos) << message;
  EXPECT_NE(message.find("/replay"), std::string::npos) << message;
  EXPECT_NE(message.find("force=true"), std::string::npos) << message;
  for (auto* wrong : {"yes", "1", ""}) {
    auto bad = discard_dead_letter(stack, id, {{"force", wrong}});
    EXPECT_EQ(bad.status, 400) << wrong << ": " << bad.body;
    EXPECT_EQ(bad.body_json()["error"].value("param", ""), "force");
  }
  auto unknown = discard_dead_letter(stack, id, {{"forced", "true"}});
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_EQ(unknown.body_json()["error"].value("code", ""),
            "parameter_unknown");
  // In the query string too: a typo there must not count as no force.
  auto in_query = http_post_form(
    stack.node_url(), "/admin/dead_letters/" + id + "/discard?forced=true",
    {}, stack.admin_token());
  EXPECT_EQ(in_query.status, 400) << in_query.body;
  EXPECT_EQ(in_query.body_json()["error"].value("param", ""), "forced");
  EXPECT_EQ(discard_dead_letter(stack, id, {{"force", "false"}}).status, 409);
  EXPECT_EQ(stack.dead_letters_of("payment").size(), 1u);
  // A buried step keeps its sealed card for a replay...
  auto attempt_key = "pa:" + dead[0].value("ref", "");
  EXPECT_FALSE(stack.redis_hash(attempt_key)["job"].empty());

  auto forced = discard_dead_letter(stack, id, {{"force", "true"}});
  ASSERT_EQ(forced.status, 200) << forced.body;
  auto body = forced.body_json();
  EXPECT_EQ(body.value("result", ""), "discarded");
  EXPECT_EQ(body.value("kind", ""), "payment");
  EXPECT_EQ(body.value("intent", ""), pi_id);
  EXPECT_EQ(body.value("ref", ""), dead[0].value("ref", ""));
  EXPECT_EQ(body["forced"], true);
  EXPECT_TRUE(stack.dead_letters().value("data", json::array()).empty());
  EXPECT_EQ(dead_letters_metric(stack), 0);
  // The payment itself is left as it was, for the operator to settle; the
  // trail keeps which one was forced.
  EXPECT_EQ(intent_status(stack, pi_id), "processing");
  auto trail = stream_entries(stack, "stream:deadletter:discarded");
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail[0]["entry"], id);
  EXPECT_EQ(trail[0]["intent"], pi_id);
  EXPECT_EQ(trail[0]["forced"], "1");
  // ...which a forced discard rules out: the card goes with it (the card
  // data audit found it kept for good).
  auto attempt = stack.redis_hash(attempt_key);
  EXPECT_EQ(attempt["status"], "pending");
  EXPECT_EQ(attempt.count("job"), 0u) << "the sealed card stayed";
  // The operator finds the attempt the dead letter named, never its card.
  auto seen = http_get(stack.node_url(),
                       "/admin/objects/" + dead[0].value("ref", ""),
                       stack.admin_token());
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_EQ(seen.body_json()["object"].value("status", ""), "pending");
  EXPECT_EQ(seen.body_json()["object"].value("intent", ""), pi_id);
  EXPECT_FALSE(seen.body_json()["object"].contains("job"));
}

TEST(recovery, payment_survives_a_node_crash_while_processing) {
  stack_options opts;
  opts.network_tries_max = 30;
  opts.backoff_base_ms = 100;
  opts.backoff_max_ms = 1000;
  psp_stack stack{opts};
  auto session = stack.create_session(1800);
  auto cs = session["id"].get<std::string>();
  auto pi_id = session["payment_intent"].get<std::string>();

  stack.stop_sim();
  ASSERT_EQ(stack.pay(cs, "4242424242424242").status, 303);
  ASSERT_EQ(intent_status(stack, pi_id), "processing");
  // The job was read by the node and is pending at its consumer.
  ASSERT_TRUE(wait_until(
      [&] { return stack.payment_stream_pending() == 1; },
      5s))
      << "the job never reached the node";
  // The outage is seen while it lasts (the on-call audit saw nothing for
  // three minutes): failed calls counted and logged with the payment, the
  // pending payment's age growing.
  EXPECT_TRUE(wait_until(
    [&] {
      return metric(stack, "psp_card_network_calls_total{op=\"charge\",outcome=\"failed\"}")
               >= 2
             && metric(stack, "psp_payment_oldest_pending_seconds") >= 1;
    },
    10s, 100ms))
    << http_get(stack.node_url(), "/metrics").body;
  auto failed_call = tail_file(stack.node_log(0), 200);
  EXPECT_NE(failed_call.find("event=card_network_call_failed attempt=pa_"),
            std::string::npos)
    << failed_call;
  EXPECT_NE(failed_call.find("intent=" + pi_id), std::string::npos);
  stack.kill_node(0);
  stack.start_sim();
  // Same node id and port: it takes its own pending entry up again.
  stack.start_node(0);
  auto outcome = stack.wait_for_outcome(cs, 20s);
  EXPECT_EQ(outcome.value("status", ""), "complete") << outcome.dump();
  EXPECT_EQ(intent_status(stack, pi_id), "succeeded");
  EXPECT_EQ(stack.sim_charge_count(pi_id), 1);
  EXPECT_TRUE(stack.ledger_balanced());
  EXPECT_EQ(metric(stack, "psp_payment_oldest_pending_seconds"), 0);
  EXPECT_GE(metric(stack, "psp_card_network_calls_total{op=\"charge\",outcome=\"approved\"}"),
            1);
}

} // namespace
} // namespace psp::test
