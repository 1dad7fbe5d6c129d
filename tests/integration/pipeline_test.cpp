// Goal: a checkout goes end to end through real processes (store → PSP →
// card network → ledger → signed webhook → store), declines and retries work,
// and a doubly submitted card form charges once.

#include "tests/support/process.hpp"
#include "tests/support/psp_stack.hpp"
#include "tests/support/store_orders.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <thread>

namespace psp::test {
namespace {

/// The session id at the end of a hosted page URL ".../pay/cs_test_…".
std::string session_of(const std::string& page_url) {
  return page_url.substr(page_url.rfind('/') + 1);
}

/// Buys at the store, stops it and pays the session at the PSP meanwhile;
/// answers the session id.
std::string pay_while_the_store_is_down(psp_stack& stack) {
  auto cs = session_of(stack.store_buy("tshirt", 1));
  stack.stop_store();
  EXPECT_EQ(stack.pay(cs, "4242424242424242").status, 303);
  EXPECT_EQ(stack.wait_for_outcome(cs).value("status", ""), "complete");
  return cs;
}

/// A stack whose example store keeps its orders in the journal at `path`.
stack_options with_store_journal(const std::string& path) {
  stack_options opts;
  opts.store = true;
  opts.store_args = {"--journal", path};
  return opts;
}

/// The store's order for `cs` once it is paid (or as it is at `timeout`).
json await_paid_order(psp_stack& stack, const std::string& cs,
                      std::chrono::milliseconds timeout) {
  json order;
  wait_until(
    [&] {
      order = order_for(stack.store_orders(), cs);
      return order.is_object() && order.value("status", "") == "paid";
    },
    timeout, 100ms);
  return order;
}

TEST(pipeline, store_checkout_is_paid_once_with_a_balanced_ledger) {
  stack_options opts;
  opts.store = true;
  psp_stack stack{opts};
  auto page = stack.store_buy("tshirt", 1);
  ASSERT_EQ(page.rfind(stack.node_url() + "/pay/cs_", 0), 0u) << page;
  auto cs = session_of(page);

  auto submitted = stack.pay(cs, "4242424242424242");
  ASSERT_EQ(submitted.status, 303) << submitted.body;
  EXPECT_EQ(submitted.header("Location"), "/pay/" + cs + "/status");
  auto outcome = stack.wait_for_outcome(cs);
  ASSERT_EQ(outcome.value("status", ""), "complete") << outcome.dump();
  EXPECT_EQ(outcome.value("payment_status", ""), "paid");
  EXPECT_EQ(outcome.value("intent_status", ""), "succeeded");

  auto session = stack.api_get("/v1/checkout/sessions/" + cs).body_json();
  ASSERT_TRUE(session.is_object()) << session;
  EXPECT_EQ(session.value("status", ""), "complete");
  EXPECT_EQ(session.value("payment_status", ""), "paid");
  EXPECT_EQ(session.value("amount_total", 0), 2000);
  auto pi_id = session.value("payment_intent", "");
  ASSERT_FALSE(pi_id.empty()) << session.dump();
  auto intent = stack.api_get("/v1/payment_intents/" + pi_id).body_json();
  EXPECT_EQ(intent.value("status", ""), "succeeded") << intent.dump();
  EXPECT_EQ(intent.value("amount_received", 0), 2000) << intent.dump();

  EXPECT_EQ(stack.sim_charge_count(pi_id), 1);
  EXPECT_TRUE(stack.ledger_balanced());
  EXPECT_EQ(stack.redis_len("ledger:transactions"), 1);

  // The store learns it from a verified checkout.session.completed webhook.
  json order;
  bool paid = wait_until(
      [&] {
        order = order_for(stack.store_orders(), cs);
        return order.is_object() && order.value("status", "") == "paid" &&
               has_event(order, "checkout.session.completed");
      },
      10s, 50ms);
  EXPECT_TRUE(paid) << order.dump();
  EXPECT_EQ(order.value("payment_intent", ""), pi_id);
  auto stats = stack.store_stats();
  EXPECT_EQ(stats.value("webhooks_rejected", -1), 0) << stats.dump();
  EXPECT_GE(stats.value("webhooks_verified", 0), 1) << stats.dump();
}

TEST(pipeline, a_restarted_store_deletes_the_endpoints_of_its_earlier_runs) {
  stack_options opts;
  opts.store = true;
  psp_stack stack{opts};
  // What a run on another port left (run.sh with other ports): its port
  // may now belong to another process, so deliveries there would fail.
  auto left = stack.api_post("/v1/webhook_endpoints",
                             {{"url", "http://127.0.0.1:9/webhook"},
                              {"enabled_events[0]", "*"},
                              {"description", "example-store"}});
  ASSERT_EQ(left.status, 200) << left.body;
  auto left_id = left.body_json().value("id", "");
  stack.stop_store();
  stack.start_store();
  std::vector<std::string> urls;
  bool settled = wait_until(
    [&] {
      auto list = stack.api_get("/v1/webhook_endpoints").body_json();
      urls.clear();
      bool stale = false;
      for (auto& ep : list["data"]) {
        urls.push_back(ep.value("url", ""));
        stale = stale || ep.value("id", "") == left_id;
      }
      return !stale && urls.size() == 1;
    },
    10s, 100ms);
  EXPECT_TRUE(settled) << ::testing::PrintToString(urls);
  ASSERT_EQ(urls.size(), 1u);
  EXPECT_EQ(urls[0], stack.store_url() + "/webhook");
}

TEST(pipeline, a_store_restarted_with_its_journal_gets_what_was_paid_meanwhile) {
  temp_dir store_dir;
  auto opts = with_store_journal(store_dir.path() + "/store.journal");
  // Long enough to outlast the store's restart below.
  opts.webhook_schedule = "0s,1s,2s,4s,8s";
  psp_stack stack{opts};
  auto endpoints = [&] {
    std::vector<std::string> ids;
    auto list = stack.api_get("/v1/webhook_endpoints").body_json();
    for (auto& ep : list["data"]) {
      ids.push_back(ep.value("id", ""));
    }
    return ids;
  };
  auto before = endpoints();
  ASSERT_EQ(before.size(), 1u)
    << stack.api_get("/v1/webhook_endpoints?limit=100").body;

  // Paid while the store is down: the PSP has the webhook still to deliver.
  auto cs = pay_while_the_store_is_down(stack);
  stack.start_store();
  auto order = await_paid_order(stack, cs, 20s);
  EXPECT_EQ(order.value("status", ""), "paid")
    << "the order was not paid after the restart: " << order.dump();
  EXPECT_EQ(endpoints(), before) << "the store kept its endpoint";
  // The start-up catch-up may mark it paid first; the PSP's own delivery
  // still reaches the kept endpoint (a new one would never get it).
  bool delivered = wait_until(
    [&] {
      order = order_for(stack.store_orders(), cs);
      for (auto& e : order.is_object() ? order["events"] : json::array()) {
        if (e.value("id", "").rfind("evt_", 0) == 0
            && e.value("type", "") == "checkout.session.completed") {
          return true;
        }
      }
      return false;
    },
    20s, 100ms);
  EXPECT_TRUE(delivered) << order.dump();
}

TEST(pipeline, a_store_that_lost_its_endpoint_catches_up_from_the_psp) {
  temp_dir store_dir;
  auto journal = store_dir.path() + "/store.journal";
  psp_stack stack{with_store_journal(journal)};
  auto cs = pay_while_the_store_is_down(stack);
  // Without its saved endpoint the store registers a new one, and the
  // deliveries scheduled for the old one go with it: the PSP's session
  // is what tells the store.
  ASSERT_EQ(std::remove((journal + ".endpoint").c_str()), 0);
  stack.start_store();
  auto order = await_paid_order(stack, cs, 10s);
  EXPECT_EQ(order.value("status", ""), "paid") << order.dump();
  EXPECT_TRUE(has_event(order, "checkout.session.completed")) << order.dump();
}

TEST(pipeline, a_store_stopped_before_the_psp_answered_gets_the_same_session) {
  temp_dir store_dir;
  auto journal = store_dir.path() + "/store.journal";
  psp_stack stack{with_store_journal(journal)};
  auto cs = session_of(stack.store_buy("tshirt", 2));
  stack.stop_store();
  // What a stop between journaling the order and the PSP's answer leaves:
  // the order, no session (the PSP made one that no shopper saw).
  std::string kept;
  {
    std::ifstream in{journal};
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("\"session_attached\"") == std::string::npos) {
        kept += line + "\n";
      }
    }
  }
  std::ofstream{journal, std::ios::trunc} << kept;

  stack.start_store();
  // The catch-up runs once the store listens.
  json order;
  wait_until(
    [&] {
      auto orders = stack.store_orders();
      order = orders["orders"].is_array() && orders["orders"].size() == 1
                ? orders["orders"][0]
                : json::object();
      return !order.value("session_id", std::string{}).empty();
    },
    10s, 50ms);
  // Sent again under the order's Idempotency-Key: the PSP's own session.
  EXPECT_EQ(order.value("session_id", ""), cs) << order.dump();
  EXPECT_EQ(order.value("status", ""), "pending");
  EXPECT_EQ(stack.pay(cs, "4242424242424242").status, 303);
  EXPECT_EQ(await_paid_order(stack, cs, 10s).value("status", ""), "paid");
}

TEST(pipeline, decline_then_retry_on_the_same_session_charges_once) {
  psp_stack stack;
  auto session = stack.create_session(1500);
  auto cs = session["id"].get<std::string>();
  auto pi_id = session["payment_intent"].get<std::string>();

  auto declined = stack.pay(cs, "4000000000000002");
  ASSERT_EQ(declined.status, 303) << declined.body;
  auto outcome = stack.wait_for_outcome(cs);
  EXPECT_EQ(outcome.value("status", ""), "open") << outcome.dump();
  EXPECT_EQ(outcome.value("intent_status", ""), "requires_payment_method");
  ASSERT_TRUE(outcome["error_message"].is_string()) << outcome.dump();
  EXPECT_EQ(outcome["error_message"].get<std::string>(),
            "Your card was declined.");

  auto intent = stack.api_get("/v1/payment_intents/" + pi_id).body_json();
  EXPECT_EQ(intent.value("status", ""), "requires_payment_method")
      << intent.dump();
  ASSERT_TRUE(intent["last_payment_error"].is_object()) << intent.dump();
  EXPECT_EQ(intent["last_payment_error"].value("decline_code", ""),
            "generic_decline")
      << intent.dump();
  EXPECT_EQ(intent["last_payment_error"].value("type", ""), "card_error");
  // The declined card, as Stripe names it: brand, last4, expiry, no number.
  auto declined_card = intent["last_payment_error"]["payment_method"];
  ASSERT_TRUE(declined_card.is_object()) << intent.dump();
  EXPECT_EQ(declined_card.value("object", ""), "payment_method");
  EXPECT_EQ(declined_card["card"].value("last4", ""), "0002") << intent.dump();
  EXPECT_EQ(declined_card["card"].value("brand", ""), "visa") << intent.dump();
  EXPECT_GT(declined_card["card"].value("exp_year", 0), 2000) << intent.dump();
  auto same = stack.api_get("/v1/payment_methods/"
                            + declined_card.value("id", ""));
  EXPECT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(same.body_json()["card"], declined_card["card"]) << same.body;
  // The payment_intent.payment_failed event's snapshot shows it too.
  auto failed = stack.api_get("/v1/events?type=payment_intent.payment_failed")
                  .body_json();
  ASSERT_FALSE(failed["data"].empty()) << failed.dump();
  json first_failed = failed["data"][0];
  EXPECT_EQ(first_failed["data"]["object"]["last_payment_error"]
                        ["payment_method"].value("id", ""),
            declined_card.value("id", ""))
    << first_failed.dump();
  EXPECT_EQ(stack.sim_charge_count(pi_id), 0);
  EXPECT_EQ(stack.redis_len("ledger:transactions"), 0);

  // The page offers the form again, mentioning the failure.
  auto page = http_get(stack.node_url(), "/pay/" + cs);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Your last payment attempt failed"),
            std::string::npos);

  // The declined card left the intent; the error keeps its name.
  EXPECT_TRUE(intent["payment_method"].is_null()) << intent.dump();
  auto declined_pm = stack.redis_hash("pi:" + pi_id)["last_error_payment_method"];

  auto retried = stack.pay(cs, "4242424242424242");
  ASSERT_EQ(retried.status, 303) << retried.body;
  outcome = stack.wait_for_outcome(cs);
  EXPECT_EQ(outcome.value("status", ""), "complete") << outcome.dump();
  EXPECT_EQ(outcome.value("intent_status", ""), "succeeded");
  EXPECT_EQ(stack.sim_charge_count(pi_id), 1);
  intent = stack.api_get("/v1/payment_intents/" + pi_id).body_json();
  EXPECT_EQ(intent.value("status", ""), "succeeded") << intent.dump();

  // Each card typed on the page is a PaymentMethod of its own, with brand,
  // last4 and expiry (what a store shows as "paid with Visa 4242").
  auto paid_pm = intent.value("payment_method", "");
  ASSERT_EQ(declined_pm.rfind("pm_", 0), 0u) << declined_pm;
  ASSERT_EQ(paid_pm.rfind("pm_", 0), 0u) << intent.dump();
  EXPECT_NE(declined_pm, paid_pm);
  for (auto [pm, last4] : {std::pair{declined_pm, "0002"},
                           std::pair{paid_pm, "4242"}}) {
    auto got = stack.api_get("/v1/payment_methods/" + pm);
    ASSERT_EQ(got.status, 200) << pm << ": " << got.body;
    auto card = got.body_json()["card"];
    EXPECT_EQ(got.body_json().value("object", ""), "payment_method");
    EXPECT_EQ(card.value("last4", ""), last4) << got.body;
    EXPECT_EQ(card.value("brand", ""), "visa") << got.body;
    EXPECT_GE(card.value("exp_year", 0), 2026) << got.body;
  }
  auto charge = stack.api_get("/v1/charges/" + intent.value("latest_charge", ""))
                  .body_json();
  EXPECT_EQ(charge.value("payment_method", ""), paid_pm) << charge.dump();
  EXPECT_TRUE(stack.ledger_balanced());
  EXPECT_EQ(stack.redis_len("ledger:transactions"), 1);
  EXPECT_EQ(stack.redis_keys("pa:*").size(), 2u);
}

TEST(pipeline, a_form_submitted_twice_at_once_is_one_attempt) {
  psp_stack stack;
  auto session = stack.create_session(3000);
  auto cs = session["id"].get<std::string>();
  auto pi_id = session["payment_intent"].get<std::string>();
  auto nonce = stack.page_nonce(cs);
  ASSERT_FALSE(nonce.empty());

  constexpr int submissions = 2;
  http_reply replies[submissions];
  std::vector<std::thread> shoppers;
  for (int i = 0; i < submissions; ++i) {
    shoppers.emplace_back(
        [&, i] { replies[i] = stack.pay(cs, card_input{}, 0, nonce); });
  }
  for (auto& t : shoppers) {
    t.join();
  }
  for (auto& r : replies) {
    EXPECT_EQ(r.status, 303) << r.body << r.error;
    EXPECT_EQ(r.header("Location"), "/pay/" + cs + "/status");
  }
  auto outcome = stack.wait_for_outcome(cs);
  EXPECT_EQ(outcome.value("status", ""), "complete") << outcome.dump();
  EXPECT_EQ(stack.redis_keys("pa:*").size(), 1u);
  EXPECT_EQ(stack.sim_charge_count(pi_id), 1);
  auto stats = stack.sim_stats();
  EXPECT_EQ(stats.value("charges", -1), 1) << stats.dump();
  EXPECT_TRUE(stack.ledger_balanced());

  // A third, late submission of the same form changes nothing either.
  auto late = stack.pay(cs, card_input{}, 0, nonce);
  EXPECT_EQ(late.status, 200) << "a paid session answers with a page";
  EXPECT_NE(late.body.find("Already paid"), std::string::npos);
  EXPECT_EQ(stack.sim_charge_count(pi_id), 1);
}

TEST(pipeline, nodes_share_one_state_through_redis) {
  stack_options opts;
  opts.nodes = 2;
  psp_stack stack{opts};
  auto session = stack.create_session(2100, 1, {}, 0);
  auto cs = session["id"].get<std::string>();
  auto pi_id = session["payment_intent"].get<std::string>();
  // Created on node 0, read and paid on node 1; whichever node's worker
  // takes the job can open the sealed card.
  EXPECT_EQ(stack.api_get("/v1/checkout/sessions/" + cs, 1).status, 200);
  ASSERT_EQ(stack.pay(cs, card_input{}, 1).status, 303);
  auto outcome = stack.wait_for_outcome(cs, 20s, 1);
  EXPECT_EQ(outcome.value("status", ""), "complete") << outcome.dump();
  EXPECT_EQ(stack.payment_status(cs, 0).value("status", ""), "complete");
  EXPECT_EQ(stack.sim_charge_count(pi_id), 1);
  EXPECT_TRUE(stack.ledger_balanced());

  // A node restarted on its port serves the same state.
  stack.restart_node(1);
  auto after = stack.api_get("/v1/checkout/sessions/" + cs, 1).body_json();
  EXPECT_EQ(after.value("payment_status", ""), "paid") << after.dump();
}

} // namespace
} // namespace psp::test
