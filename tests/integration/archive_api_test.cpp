// Goal: archiving a paid charge and its refunds (docs/decisions.md 38)
// changes how Redis holds them, never what the API, the hosted page, the
// ledger reports or a later refund see. Each test pays, waits until the node's archiver has
// packed the payment (its hashes gone), then compares with what was
// answered before.

#include "adapters/crypto/encoding.hpp"
#include "adapters/http/idempotency.hpp"
#include "tests/support/payment_flows.hpp"
#include "tests/support/stack_suite.hpp"

#include <gtest/gtest.h>

namespace psp::test {
namespace {

class archive_api : public stack_suite {
protected:
  static void SetUpTestSuite() {
    stack_options opts;
    // Archive as soon as a payment is final, looking every 50 ms.
    opts.node_args = {"--psp.archive-after-s=0",
                      "--psp.archive-interval-ms=50"};
    start_stack(opts);
  }

  bool live(const std::string& key) {
    auto r = stack().redis_cmd({"EXISTS", key});
    return r && r->number == 1;
  }

  /// Waits until the intent's hash is gone: only the archiver removes it.
  ::testing::AssertionResult archived(const std::string& intent_id) {
    if (wait_until([&] { return !live("pi:" + intent_id); }, 10s)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "pi:" << intent_id << " was not archived within 10 s";
  }

  json get(const std::string& path) {
    auto r = stack().api_get(path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return r.body_json();
  }

  /// A paid checkout: its session and intent as the API shows them.
  std::pair<json, json> paid_checkout() {
    auto cs = stack().create_session(2500);
    auto paid = stack().pay(cs["id"].get<std::string>());
    EXPECT_EQ(paid.status, 303) << paid.body;
    stack().wait_for_outcome(cs["id"]);
    auto session = get("/v1/checkout/sessions/" + cs["id"].get<std::string>());
    auto intent = get("/v1/payment_intents/"
                      + session["payment_intent"].get<std::string>());
    EXPECT_EQ(intent["status"], "succeeded");
    return {session, intent};
  }
};

/// The balance transactions of `source`, listed (filtered) and one by one.
void add_balance_transactions(psp_stack& s, const std::string& source,
                              json& view) {
  auto txns = s.api_get("/v1/balance_transactions?source=" + source)
                .body_json()["data"];
  view["balance_transactions"] = txns;
  for (auto& t : txns) {
    view["txn_by_id"].push_back(
      s.api_get("/v1/balance_transactions/" + t["id"].get<std::string>())
        .body_json());
  }
}

/// Everything a merchant can read of one payment, by the API.
json merchant_view(psp_stack& s, const json& session, const json& intent) {
  // .at() throws (a test failure) where a const operator[] would be
  // undefined behaviour on an error body.
  auto pi = intent.at("id").get<std::string>();
  auto charge = intent.at("latest_charge").get<std::string>();
  json view;
  view["session"] = s.api_get("/v1/checkout/sessions/"
                              + session.at("id").get<std::string>())
                      .body_json();
  view["intent"] = s.api_get("/v1/payment_intents/" + pi).body_json();
  view["charge"] = s.api_get("/v1/charges/" + charge).body_json();
  view["payment_method"] =
    s.api_get("/v1/payment_methods/"
              + intent.at("payment_method").get<std::string>())
      .body_json();
  // The payment's own events and balance transaction, through the lists
  // (filtered) and one by one.
  auto events = s.api_get("/v1/events?limit=100").body_json()["data"];
  for (auto& e : events) {
    if (e["data"]["object"]["id"] == pi
        || e["data"]["object"]["id"] == session["id"]) {
      view["events"].push_back(e);
      view["event_by_id"].push_back(
        s.api_get("/v1/events/" + e["id"].get<std::string>()).body_json());
    }
  }
  auto typed = s.api_get("/v1/events?type=payment_intent.succeeded&limit=100")
                 .body_json()["data"];
  for (auto& e : typed) {
    if (e["data"]["object"]["id"] == pi) {
      view["typed_event"] = e;
    }
  }
  add_balance_transactions(s, charge, view);
  auto listed = s.api_get("/v1/payment_intents?limit=100").body_json()["data"];
  for (auto& p : listed) {
    if (p["id"] == pi) {
      view["listed_intent"] = p;
    }
  }
  return view;
}

TEST_F(archive_api, every_read_answers_the_same_once_archived) {
  auto [session, intent] = paid_checkout();
  auto before = merchant_view(stack(), session, intent);
  ASSERT_EQ(before["events"].size(), 2u) << before.dump(2);
  ASSERT_EQ(before["balance_transactions"].size(), 1u) << before.dump(2);
  ASSERT_TRUE(archived(intent["id"]));
  EXPECT_FALSE(live("cs:" + session["id"].get<std::string>()));
  EXPECT_FALSE(live("charge:" + intent["latest_charge"].get<std::string>()));
  EXPECT_FALSE(stack().redis_keys("arc:*").empty());
  auto after = merchant_view(stack(), session, intent);
  EXPECT_EQ(after, before);
  // Reading does not bring the payment back.
  EXPECT_FALSE(live("pi:" + intent["id"].get<std::string>()));
}

TEST_F(archive_api, a_keyed_create_replays_its_archived_session) {
  auto key = "archive-replay-" + std::to_string(now_s());
  form_fields body{
    {"mode", "payment"},
    {"success_url", "http://127.0.0.1:9/ok"},
    {"line_items[0][price_data][currency]", "usd"},
    {"line_items[0][price_data][unit_amount]", "1200"},
    {"line_items[0][price_data][product_data][name]", "Replayed"},
    {"line_items[0][quantity]", "1"}};
  auto first = http_call(stack().node_url(),
                         keyed_post(stack(), "/v1/checkout/sessions", body, key));
  ASSERT_EQ(first.status, 200) << first.body;
  auto cs = first.body_json()["id"].get<std::string>();
  ASSERT_EQ(stack().pay(cs).status, 303);
  stack().wait_for_outcome(cs);
  auto pi = get("/v1/checkout/sessions/" + cs)["payment_intent"];
  ASSERT_TRUE(archived(pi.get<std::string>()));
  auto again = http_call(stack().node_url(),
                         keyed_post(stack(), "/v1/checkout/sessions", body, key));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.body_json(), first.body_json());
}

TEST_F(archive_api, the_hosted_page_of_an_archived_session_stays_paid) {
  auto cs = stack().create_session(2500)["id"].get<std::string>();
  auto nonce = stack().page_nonce(cs);
  ASSERT_FALSE(nonce.empty());
  ASSERT_EQ(stack().pay(cs, card_input{}, 0, nonce).status, 303);
  stack().wait_for_outcome(cs);
  auto pi = get("/v1/checkout/sessions/" + cs)["payment_intent"]
              .get<std::string>();
  ASSERT_TRUE(archived(pi));
  auto status = stack().payment_status(cs);
  EXPECT_EQ(status["payment_status"], "paid") << status.dump();
  auto page = http_get(stack().node_url(), "/pay/" + cs);
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("Already paid"), std::string::npos) << page.body;
  // Viewing reads the archive; it does not bring the payment back.
  EXPECT_FALSE(live("pi:" + pi));
  EXPECT_FALSE(live("cs:" + cs));
  // The same form submitted again, after the archive: nothing is charged.
  auto late = stack().pay(cs, card_input{}, 0, nonce);
  EXPECT_EQ(late.status, 200) << late.body;
  EXPECT_NE(late.body.find("Already paid"), std::string::npos) << late.body;
  EXPECT_EQ(stack().sim_charge_count(pi), 1);
  EXPECT_EQ(get("/v1/payment_intents/" + pi)["amount_received"], 2500);
}

/// What a merchant reads of a refund: itself, listed, its events and its
/// balance transaction, one by one and through the lists' filters.
json refund_view(psp_stack& s, const std::string& refund_id,
                 const std::string& intent_id, const std::string& charge_id) {
  json view;
  view["refund"] = s.api_get("/v1/refunds/" + refund_id).body_json();
  view["listed"] =
    s.api_get("/v1/refunds?payment_intent=" + intent_id).body_json()["data"];
  view["by_charge"] =
    s.api_get("/v1/refunds?charge=" + charge_id).body_json()["data"];
  auto events = s.api_get("/v1/events?limit=100").body_json()["data"];
  for (auto& e : events) {
    auto& object = e["data"]["object"];
    if (object["id"] == refund_id
        || (object["id"] == charge_id && e["type"] == "charge.refunded")) {
      view["events"].push_back(e);
      view["event_by_id"].push_back(
        s.api_get("/v1/events/" + e["id"].get<std::string>()).body_json());
    }
  }
  view["refund_events"] =
    s.api_get("/v1/events?type=refund.updated&limit=100").body_json()["data"];
  add_balance_transactions(s, refund_id, view);
  return view;
}

TEST_F(archive_api, a_refunded_payment_and_its_refunds_are_archived_and_read) {
  auto [session, intent] = paid_checkout();
  auto pi = intent["id"].get<std::string>();
  auto charge = intent["latest_charge"].get<std::string>();
  ASSERT_TRUE(archived(pi));
  // A refund of an archived charge restores the payment and refunds it.
  auto refund = refund_intent(stack(), pi, 1000);
  ASSERT_EQ(refund["status"], "succeeded") << refund.dump();
  auto re = refund["id"].get<std::string>();
  EXPECT_EQ(get("/v1/charges/" + charge)["amount_refunded"], 1000);
  auto before = merchant_view(stack(), session, intent);
  auto refund_before = refund_view(stack(), re, pi, charge);
  ASSERT_EQ(refund_before["events"].size(), 3u) << refund_before.dump(2);
  ASSERT_EQ(refund_before["balance_transactions"].size(), 1u);

  // Once the refund is final, the payment and the refund (apart) are
  // archived again, and every read answers as before.
  ASSERT_TRUE(archived(pi));
  ASSERT_TRUE(wait_until([&] { return !live("re:" + re); }, 10s))
    << "the refund was not archived";
  EXPECT_FALSE(live("pa:" + re));
  EXPECT_EQ(merchant_view(stack(), session, intent), before);
  EXPECT_EQ(refund_view(stack(), re, pi, charge), refund_before);
  EXPECT_FALSE(live("re:" + re)); // reading does not restore
  EXPECT_FALSE(live("pi:" + pi));

  // A second refund restores the payment only; the first stays archived.
  auto second = refund_intent(stack(), pi, 500);
  ASSERT_EQ(second["status"], "succeeded") << second.dump();
  EXPECT_FALSE(live("re:" + re));
  EXPECT_EQ(get("/v1/charges/" + charge)["amount_refunded"], 1500);
  // More than what is left is refused, from the restored intent.
  auto too_much = stack().api_post(
    "/v1/refunds", {{"payment_intent", pi}, {"amount", "1001"}});
  EXPECT_EQ(too_much.status, 400) << too_much.body;
  ASSERT_TRUE(archived(pi));
  auto second_re = second["id"].get<std::string>();
  ASSERT_TRUE(wait_until([&] { return !live("re:" + second_re); }, 10s));
  EXPECT_EQ(get("/v1/refunds/" + second_re), second);
  EXPECT_EQ(get("/v1/refunds/" + re), refund_before["refund"]);
  EXPECT_EQ(get("/v1/payment_intents/" + pi)["amount_received"], 2500);
  EXPECT_EQ(stack().sim_charge_count(pi), 1);
  EXPECT_TRUE(stack().ledger_balanced());
}

TEST_F(archive_api, an_api_confirmed_intent_is_archived_and_still_read) {
  auto created = create_intent(stack(), 4200);
  ASSERT_EQ(created["status"], "succeeded") << created.dump();
  auto pi = created["id"].get<std::string>();
  auto before = get("/v1/payment_intents/" + pi);
  ASSERT_TRUE(archived(pi));
  EXPECT_EQ(get("/v1/payment_intents/" + pi), before);
  // A cancel of the archived, succeeded intent is refused as before.
  auto cancel = stack().api_post("/v1/payment_intents/" + pi + "/cancel", {});
  EXPECT_EQ(cancel.status, 400) << cancel.body;
  EXPECT_EQ(cancel.body_json()["error"]["code"],
            "payment_intent_unexpected_state")
    << cancel.body;
}

TEST_F(archive_api, the_event_list_keeps_thirty_days_and_the_event_stays) {
  // As Stripe's, GET /v1/events lists the last 30 days; the list held
  // ~350 B a payment for good (the capacity audit). An older event is
  // still retrieved by id, archived with its payment.
  auto created = create_intent(stack(), 4300);
  auto pi = created.at("id").get<std::string>();
  ASSERT_TRUE(archived(pi));
  std::string old_id;
  auto listed = get("/v1/events?limit=100");
  for (auto& e : listed["data"]) {
    if (e["data"]["object"]["id"] == pi) {
      old_id = e["id"].get<std::string>();
    }
  }
  ASSERT_FALSE(old_id.empty()) << listed.dump();
  auto before = get("/v1/events/" + old_id);
  // Listed 31 days ago, as far as the list's order (its score) goes.
  auto index = "merchant:" + stack().merchant().id + ":events";
  auto month_ago_ms = (now_s() - 31 * 86'400) * 1000;
  ASSERT_TRUE(stack().redis_cmd(
    {"ZADD", index, "XX", std::to_string(month_ago_ms), old_id}));
  auto still = stack().redis_cmd({"ZSCORE", index, old_id});
  ASSERT_TRUE(still && still->kind == redis_reply::string);
  // A node trims at start, then once a minute.
  stack().restart_node(0);
  EXPECT_TRUE(wait_until(
    [&] {
      auto score = stack().redis_cmd({"ZSCORE", index, old_id});
      return score && score->kind == redis_reply::nil;
    },
    10s));
  auto after = get("/v1/events?limit=100");
  for (auto& e : after["data"]) {
    EXPECT_NE(e["id"], old_id) << "listed after 30 days";
  }
  EXPECT_FALSE(after["data"].empty()) << "recent events stay listed";
  EXPECT_EQ(get("/v1/events/" + old_id), before);
}

TEST_F(archive_api, statements_and_the_ledger_count_archived_payments) {
  auto from = now_s() - 1;
  auto [session, intent] = paid_checkout();
  auto to = ended_period_end_s();
  auto path = "/admin/statements/" + stack().merchant().id
              + "?from=" + std::to_string(from) + "&to=" + std::to_string(to);
  auto before = http_get(stack().node_url(), path, stack().admin_token());
  ASSERT_EQ(before.status, 200) << before.body;
  ASSERT_TRUE(archived(intent["id"]));
  auto after = http_get(stack().node_url(), path, stack().admin_token());
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(after.body_json(), before.body_json());
  EXPECT_TRUE(stack().ledger_balanced());
}

/// What a merchant reads of an unpaid session: itself, its intent, its
/// expiry event, and each listed.
json session_view(psp_stack& s, const std::string& session_id,
                  const std::string& intent_id) {
  json view;
  view["session"] =
    s.api_get("/v1/checkout/sessions/" + session_id).body_json();
  view["intent"] = s.api_get("/v1/payment_intents/" + intent_id).body_json();
  auto event_id = "evt_" + session_id.substr(session_id.rfind('_') + 1) + "E";
  view["event"] = s.api_get("/v1/events/" + event_id).body_json();
  auto events =
    s.api_get("/v1/events?type=checkout.session.expired&limit=100").body_json();
  for (auto& e : events["data"]) {
    if (e["id"] == event_id) {
      view["listed_event"] = e;
    }
  }
  // Its intent's payment_intent.canceled, under the same random part.
  auto canceled_id = event_id.substr(0, event_id.size() - 1) + "X";
  view["intent_event"] = s.api_get("/v1/events/" + canceled_id).body_json();
  auto sessions = s.api_get("/v1/checkout/sessions?limit=100").body_json();
  for (auto& c : sessions["data"]) {
    if (c["id"] == session_id) {
      view["listed_session"] = c;
    }
  }
  return view;
}

TEST_F(archive_api, an_expired_session_is_archived_and_read_as_before) {
  // Expired through the API: the node's sweep queues it for the archive.
  auto cs = stack().create_session(3100);
  auto id = cs["id"].get<std::string>();
  auto pi = cs["payment_intent"].get<std::string>();
  auto expired = stack().api_post("/v1/checkout/sessions/" + id + "/expire",
                                  {});
  ASSERT_EQ(expired.status, 200) << expired.body;
  auto before = session_view(stack(), id, pi);
  ASSERT_EQ(before["session"], expired.body_json());
  ASSERT_EQ(before["intent"]["status"], "canceled") << before.dump(2);
  ASSERT_EQ(before["event"]["type"], "checkout.session.expired");
  ASSERT_EQ(before["intent_event"]["type"], "payment_intent.canceled")
    << before.dump(2);
  ASSERT_TRUE(before.contains("listed_event") && before.contains("listed_session"));
  ASSERT_TRUE(wait_until([&] { return !live("cs:" + id); }, 10s))
    << "the expired session was not archived";
  auto random_part = id.substr(id.rfind('_') + 1);
  EXPECT_TRUE(live("arc:" + random_part.substr(0, 12)));
  EXPECT_FALSE(live("pi:" + pi));
  EXPECT_FALSE(live("evt:evt_" + random_part + "E"));
  EXPECT_FALSE(live("evt:evt_" + random_part + "X"));
  EXPECT_EQ(session_view(stack(), id, pi), before);

  // The hosted page still says expired, and takes no card; nothing is
  // brought back by reading it.
  auto page = http_get(stack().node_url(), "/pay/" + id);
  EXPECT_NE(page.body.find("expired"), std::string::npos) << page.body;
  auto paid = stack().pay(id, card_input{}, 0, "any-nonce");
  EXPECT_NE(paid.status, 303) << paid.body;
  EXPECT_NE(paid.body.find("expired"), std::string::npos) << paid.body;
  EXPECT_FALSE(live("cs:" + id));
  EXPECT_EQ(stack().sim_charge_count(pi), 0);

  // Expiring it again is refused as before (the step restores it first,
  // then it goes back to the archive).
  auto again = stack().api_post("/v1/checkout/sessions/" + id + "/expire", {});
  EXPECT_EQ(again.status, 400) << again.body;
  EXPECT_EQ(again.body_json()["error"]["code"],
            "checkout_session_unexpected_state")
    << again.body;
  EXPECT_TRUE(wait_until([&] { return !live("cs:" + id); }, 10s));
  EXPECT_EQ(session_view(stack(), id, pi), before);
}

TEST_F(archive_api, the_node_sweeps_a_session_past_expires_at_into_the_archive) {
  auto cs = stack().create_session(3300);
  auto id = cs["id"].get<std::string>();
  auto pi = cs["payment_intent"].get<std::string>();
  // As if its 30 minutes had passed: the session and its entry in the
  // sweep's set say it expired a second ago.
  auto past = std::to_string(now_s() - 1);
  stack().redis_cmd({"HSET", "cs:" + id, "expires_at", past});
  stack().redis_cmd({"ZADD", "sessions:expiring", past, id});
  ASSERT_TRUE(wait_until([&] { return !live("cs:" + id); }, 10s))
    << "the node did not expire and archive the session";
  auto view = session_view(stack(), id, pi);
  EXPECT_EQ(view["session"]["status"], "expired") << view.dump(2);
  EXPECT_EQ(view["session"]["expires_at"], std::stoll(past));
  EXPECT_EQ(view["intent"]["status"], "canceled");
  EXPECT_EQ(view["intent"]["cancellation_reason"], "abandoned");
  EXPECT_EQ(view["event"]["data"]["object"]["status"], "expired");
  EXPECT_EQ(view["listed_session"], view["session"]);
  EXPECT_EQ(view["listed_event"], view["event"]);
}

/// The random part of the declined attempt behind the intent's
/// payment_intent.payment_failed event ("" when there is none).
std::string declined_part(psp_stack& s, const std::string& intent_id) {
  auto failed =
    s.api_get("/v1/events?type=payment_intent.payment_failed&limit=100")
      .body_json();
  for (auto& e : failed["data"]) {
    if (e["data"]["object"]["id"] == intent_id) {
      auto id = e["id"].get<std::string>(); // evt_<part>F
      return id.substr(4, id.size() - 5);
    }
  }
  return "";
}

TEST_F(archive_api, a_declined_attempt_is_archived_apart_and_read_as_before) {
  // A declined card, then one that pays, on the same session.
  auto cs = stack().create_session(2700);
  auto id = cs["id"].get<std::string>();
  ASSERT_EQ(stack().pay(id, "4000000000000002").status, 303);
  stack().wait_for_outcome(id);
  ASSERT_EQ(stack().pay(id).status, 303);
  auto outcome = stack().wait_for_outcome(id);
  ASSERT_EQ(outcome["payment_status"], "paid") << outcome.dump();
  auto session = get("/v1/checkout/sessions/" + id);
  auto intent = get("/v1/payment_intents/"
                    + session["payment_intent"].get<std::string>());
  auto pi = intent["id"].get<std::string>();
  auto part = declined_part(stack(), pi);
  ASSERT_FALSE(part.empty());
  auto before = merchant_view(stack(), session, intent);
  before["declined_card"] = get("/v1/payment_methods/pm_" + part);
  ASSERT_EQ(before["declined_card"]["card"]["last4"], "0002");
  ASSERT_EQ(before["events"].size(), 3u) << before.dump(2);

  ASSERT_TRUE(archived(pi));
  ASSERT_TRUE(wait_until([&] { return !live("pa:pa_" + part); }, 10s))
    << "the declined attempt was not archived";
  EXPECT_FALSE(live("evt:evt_" + part + "F"));
  EXPECT_TRUE(live("arc:" + part.substr(0, 12)));
  auto after = merchant_view(stack(), session, intent);
  after["declined_card"] = get("/v1/payment_methods/pm_" + part);
  EXPECT_EQ(after, before);
}

TEST_F(archive_api, an_expired_session_that_saw_a_declined_card_is_archived) {
  auto cs = stack().create_session(2900);
  auto id = cs["id"].get<std::string>();
  auto pi = cs["payment_intent"].get<std::string>();
  ASSERT_EQ(stack().pay(id, "4000000000000002").status, 303);
  stack().wait_for_outcome(id);
  auto part = declined_part(stack(), pi);
  ASSERT_FALSE(part.empty());
  auto expired = stack().api_post("/v1/checkout/sessions/" + id + "/expire",
                                  {});
  ASSERT_EQ(expired.status, 200) << expired.body;
  auto before = session_view(stack(), id, pi);
  before["declined_card"] = get("/v1/payment_methods/pm_" + part);
  ASSERT_TRUE(wait_until(
    [&] { return !live("cs:" + id) && !live("pa:pa_" + part); }, 10s))
    << "the session or its declined attempt was not archived";
  EXPECT_FALSE(live("pi:" + pi));
  auto after = session_view(stack(), id, pi);
  after["declined_card"] = get("/v1/payment_methods/pm_" + part);
  EXPECT_EQ(after, before);
}

/// A checkout paid with manual capture: authorised on the hosted page.
std::pair<json, json> authorised_checkout(psp_stack& s, int64_t amount) {
  auto cs = s.create_session(amount, 1,
                             {{"payment_intent_data[capture_method]",
                               "manual"}});
  auto id = cs["id"].get<std::string>();
  EXPECT_EQ(s.pay(id).status, 303);
  s.wait_for_outcome(id);
  auto session = s.api_get("/v1/checkout/sessions/" + id).body_json();
  auto intent = wait_intent(s, session["payment_intent"].get<std::string>());
  EXPECT_EQ(intent["status"], "requires_capture") << intent.dump();
  return {session, intent};
}

TEST_F(archive_api, a_captured_manual_payment_is_archived_and_read) {
  auto [session, held] = authorised_checkout(stack(), 3700);
  auto pi = held["id"].get<std::string>();
  auto captured = capture_intent(stack(), pi, 3000); // in part
  ASSERT_EQ(captured["status"], "succeeded") << captured.dump();
  session = get("/v1/checkout/sessions/" + session["id"].get<std::string>());
  auto before = merchant_view(stack(), session, captured);
  // Authorised (A), completed (C), captured (S, the capture op's).
  ASSERT_EQ(before["events"].size(), 3u) << before.dump(2);
  ASSERT_EQ(before["balance_transactions"].size(), 1u) << before.dump(2);
  auto capture_part = before["typed_event"]["id"].get<std::string>();
  capture_part = capture_part.substr(4, capture_part.size() - 5);

  ASSERT_TRUE(archived(pi));
  ASSERT_TRUE(
    wait_until([&] { return !live("pa:cap_" + capture_part); }, 10s))
    << "the capture was not archived";
  EXPECT_FALSE(live("txn:txn_" + capture_part));
  EXPECT_EQ(merchant_view(stack(), session, captured), before);

  // A refund restores the payment and works as on a live one.
  auto refund = refund_intent(stack(), pi, 1000);
  EXPECT_EQ(refund["status"], "succeeded") << refund.dump();
  EXPECT_EQ(get("/v1/charges/" + held["latest_charge"].get<std::string>())
              ["amount_refunded"],
            1000);
  EXPECT_TRUE(stack().ledger_balanced());
}

TEST_F(archive_api, a_keyed_capture_rerun_finds_its_archived_op) {
  // A capture whose stored answer was lost (a crash between the step and
  // the store), retried after its op was archived: the retry runs again,
  // finds the op it queued (derived from the key) and answers the captured
  // intent, not "already succeeded".
  auto [session, held] = authorised_checkout(stack(), 4100);
  auto pi = held["id"].get<std::string>();
  auto key = "archive-capture-" + pi;
  auto path = "/v1/payment_intents/" + pi + "/capture";
  // The key as a run that died before storing its answer leaves it: its
  // lease over, its seed (which derives the op's id) kept.
  auto idem = "idem:" + stack().merchant().id + ":" + key;
  auto secret = http::fingerprint_secret(*crypto::from_hex(
    stack().vault_key_hex()));
  auto leave_lost_claim = [&] {
    stack().redis_cmd({"DEL", idem});
    stack().redis_cmd({"HSET", idem, "state", "running", "fingerprint",
                       http::request_fingerprint(secret, "POST", path,
                                                 std::string{}),
                       "lease_until", "0", "seed", "lost-answer-seed"});
  };
  leave_lost_claim();
  auto first = http_call(stack().node_url(), keyed_post(stack(), path, {}, key));
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(first.body_json()["status"], "succeeded");
  ASSERT_TRUE(archived(pi));
  ASSERT_TRUE(wait_until(
    [&] { return stack().redis_keys("pa:cap_*").empty(); }, 10s))
    << "the capture op was not archived";
  leave_lost_claim(); // as if that answer had never been stored
  auto again = http_call(stack().node_url(), keyed_post(stack(), path, {}, key));
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.body_json()["status"], "succeeded") << again.body;
  EXPECT_EQ(again.body_json()["amount_received"], 4100);
}

TEST_F(archive_api, an_intent_canceled_before_any_charge_is_archived) {
  auto made = stack().api_post("/v1/payment_intents",
                               {{"amount", "1900"}, {"currency", "usd"}});
  ASSERT_EQ(made.status, 200) << made.body;
  auto pi = made.body_json()["id"].get<std::string>();
  auto canceled = stack().api_post("/v1/payment_intents/" + pi + "/cancel",
                                   {{"cancellation_reason", "duplicate"}});
  ASSERT_EQ(canceled.status, 200) << canceled.body;
  auto before = get("/v1/payment_intents/" + pi);
  auto event_id = "evt_" + pi.substr(3) + "X";
  auto event_before = get("/v1/events/" + event_id);
  ASSERT_TRUE(archived(pi));
  EXPECT_FALSE(live("evt:" + event_id));
  EXPECT_EQ(get("/v1/payment_intents/" + pi), before);
  EXPECT_EQ(get("/v1/events/" + event_id), event_before);
  auto listed = stack().api_get("/v1/payment_intents?limit=100").body_json();
  bool found = false;
  for (auto& p : listed["data"]) {
    if (p["id"] == pi) {
      found = true;
      EXPECT_EQ(p, before);
    }
  }
  EXPECT_TRUE(found);
  // A second cancel is refused as before (restored first, then archived
  // again).
  auto again = stack().api_post("/v1/payment_intents/" + pi + "/cancel", {});
  EXPECT_EQ(again.status, 400) << again.body;
  EXPECT_TRUE(archived(pi));
}

TEST_F(archive_api, a_voided_manual_payment_is_archived_and_read) {
  auto [session, held] = authorised_checkout(stack(), 3900);
  auto pi = held["id"].get<std::string>();
  auto voided = cancel_intent(stack(), pi);
  ASSERT_EQ(voided["status"], "canceled") << voided.dump();
  auto intent_before = get("/v1/payment_intents/" + pi);
  auto charge_before =
    get("/v1/charges/" + held["latest_charge"].get<std::string>());
  auto session_before =
    get("/v1/checkout/sessions/" + session["id"].get<std::string>());
  std::string void_part;
  auto canceled = stack()
                    .api_get("/v1/events?type=payment_intent.canceled&limit=100")
                    .body_json();
  for (auto& e : canceled["data"]) {
    if (e["data"]["object"]["id"] == pi) {
      auto id = e["id"].get<std::string>(); // evt_<part>X
      void_part = id.substr(4, id.size() - 5);
    }
  }
  ASSERT_FALSE(void_part.empty());
  ASSERT_TRUE(archived(pi));
  ASSERT_TRUE(wait_until([&] { return !live("pa:void_" + void_part); }, 10s))
    << "the void was not archived";
  EXPECT_EQ(get("/v1/payment_intents/" + pi), intent_before);
  EXPECT_EQ(get("/v1/charges/" + held["latest_charge"].get<std::string>()),
            charge_before);
  EXPECT_EQ(get("/v1/checkout/sessions/" + session["id"].get<std::string>()),
            session_before);
  // A second cancel is refused as before.
  auto again = stack().api_post("/v1/payment_intents/" + pi + "/cancel", {});
  EXPECT_EQ(again.status, 400) << again.body;
  EXPECT_TRUE(stack().ledger_balanced());
}

} // namespace
} // namespace psp::test
