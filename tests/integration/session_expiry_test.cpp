// Goal: a checkout session that passes its expires_at is expired as Stripe
// expires it (status expired, its intent canceled as abandoned,
// checkout.session.expired with its webhook), exactly once, whoever sweeps
// or calls the expire endpoint first; a payment in flight at that moment
// decides the session instead; a paid session is never expired. The node's
// own sweep is off here (--psp.session-expiry-interval-ms=0) and the test
// sweeps the stack's Redis itself: since expires_at is at least 30 minutes
// ahead, a test moves a session's expiry into the past (its field and its
// entry in the set, as the clock would have). The node's sweep thread is
// covered by archive_api_test.

#include "adapters/redis/keys.hpp"
#include "adapters/redis/session_expiry.hpp"
#include "tests/support/payment_flows.hpp"
#include "tests/support/stack_suite.hpp"

#include <gtest/gtest.h>

namespace psp::test {
namespace {

class session_expiry : public stack_suite {
protected:
  static void SetUpTestSuite() {
    stack_options opts;
    opts.store = true; // a real endpoint that verifies and answers events
    opts.node_args = {"--psp.session-expiry-interval-ms=0"};
    start_stack(opts);
  }

  redis::connection& conn() {
    if (!conn_) {
      conn_.emplace(redis::endpoint{"127.0.0.1", stack().redis_port()}, 2000);
    }
    return *conn_;
  }

  /// One sweep step as if the clock read `at_s`.
  redis::expiry_sweep sweep_at(int64_t at_s) {
    return redis::expire_due_sessions(conn(), at_s * 1000, 1000, false);
  }

  /// As if the session's 30 minutes or more had passed: it expired a
  /// second ago. Returns that time.
  int64_t pass_expiry(const std::string& session_id) {
    auto past = now_s() - 1;
    stack().redis_cmd({"HSET", "cs:" + session_id, "expires_at",
                       std::to_string(past)});
    stack().redis_cmd({"ZADD", keys::sessions_expiring, std::to_string(past),
                       session_id});
    return past;
  }

  /// The session's score in sessions:expiring; -1 when it is not there.
  long long expiry_score(const std::string& session_id) {
    auto r = stack().redis_cmd(
      {"ZSCORE", keys::sessions_expiring, session_id});
    if (!r || r->kind != redis_reply::string) {
      return -1;
    }
    return std::stoll(r->str);
  }

  json get(const std::string& path) {
    auto r = stack().api_get(path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return r.body_json();
  }

  /// Events of `type` about object `id`.
  std::vector<json> events_about(const std::string& id,
                                 const std::string& type) {
    std::vector<json> out;
    auto listed = get("/v1/events?limit=100&type=" + type);
    for (auto& e : listed["data"]) {
      if (e["data"]["object"]["id"] == id) {
        out.push_back(e);
      }
    }
    return out;
  }

  static std::string expiry_event_id(const std::string& session_id) {
    return "evt_" + session_id.substr(session_id.rfind('_') + 1) + "E";
  }

private:
  std::optional<redis::connection> conn_;
};

TEST_F(session_expiry, a_new_session_waits_in_the_set_until_its_expires_at) {
  auto cs = stack().create_session(1500);
  auto id = cs["id"].get<std::string>();
  auto expires_at = cs["expires_at"].get<int64_t>();
  EXPECT_EQ(expiry_score(id), expires_at);
  // Not due a second before.
  sweep_at(expires_at - 1);
  EXPECT_EQ(get("/v1/checkout/sessions/" + id)["status"], "open");
  EXPECT_EQ(expiry_score(id), expires_at);
}

TEST_F(session_expiry, a_session_past_expires_at_is_expired_once_with_its_event) {
  auto cs = stack().create_session(1500);
  auto id = cs["id"].get<std::string>();
  auto pi = cs["payment_intent"].get<std::string>();
  pass_expiry(id);
  // Until the sweep: the API shows what is stored (a status only moves
  // forward), the hosted page tells the shopper at once.
  EXPECT_EQ(get("/v1/checkout/sessions/" + id)["status"], "open");
  EXPECT_EQ(stack().payment_status(id)["status"], "expired");
  auto first = sweep_at(now_s());
  ASSERT_FALSE(first.failed);
  EXPECT_GE(first.expired, 1u);

  auto session = get("/v1/checkout/sessions/" + id);
  EXPECT_EQ(session["status"], "expired") << session.dump();
  auto intent = get("/v1/payment_intents/" + pi);
  EXPECT_EQ(intent["status"], "canceled") << intent.dump();
  EXPECT_EQ(intent["cancellation_reason"], "abandoned");
  EXPECT_EQ(expiry_score(id), -1);
  auto events = events_about(id, "checkout.session.expired");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["id"], expiry_event_id(id));
  EXPECT_EQ(events[0]["data"]["object"]["status"], "expired");
  // The store's endpoint is told, and verifies and accepts it.
  auto delivery = events[0]["id"].get<std::string>() + ":";
  EXPECT_TRUE(wait_until(
    [&] {
      for (auto& [did, rec] : stack().webhook_deliveries()) {
        if (did.rfind(delivery, 0) == 0 && rec.status == "delivered") {
          return true;
        }
      }
      return false;
    },
    10s))
    << "checkout.session.expired was not delivered";

  // Its intent's cancellation is an event too, as at Stripe.
  auto canceled = events_about(pi, "payment_intent.canceled");
  ASSERT_EQ(canceled.size(), 1u);
  auto expiry_id = expiry_event_id(id);
  EXPECT_EQ(canceled[0]["id"], expiry_id.substr(0, expiry_id.size() - 1) + "X");
  EXPECT_EQ(canceled[0]["data"]["object"]["status"], "canceled");
  EXPECT_EQ(canceled[0]["data"]["object"]["cancellation_reason"], "abandoned");

  // Swept again (another node, a retry): nothing happens twice.
  stack().redis_cmd({"ZADD", keys::sessions_expiring, "1", id});
  sweep_at(now_s());
  EXPECT_EQ(events_about(id, "checkout.session.expired").size(), 1u);
  EXPECT_EQ(events_about(pi, "payment_intent.canceled").size(), 1u);
  EXPECT_EQ(expiry_score(id), -1);
  // And it cannot be paid any more.
  auto late = stack().pay(id, card_input{}, 0, "a-form-from-before");
  EXPECT_NE(late.status, 303) << late.body;
  EXPECT_NE(late.body.find("expired"), std::string::npos) << late.body;
  EXPECT_EQ(stack().sim_charge_count(pi), 0);
}

TEST_F(session_expiry, a_payment_in_flight_decides_the_session_first) {
  auto cs = stack().create_session(1700);
  auto id = cs["id"].get<std::string>();
  ASSERT_EQ(stack().sim_faults({{"latency_ms", 1500}}).status, 200);
  ASSERT_EQ(stack().pay(id).status, 303);
  ASSERT_TRUE(wait_until(
    [&] {
      return stack().redis_hash("pi:" + cs["payment_intent"].get<std::string>())
               ["status"] == "processing";
    },
    5s));
  pass_expiry(id);
  auto now = now_s();
  sweep_at(now);
  EXPECT_EQ(stack().redis_hash("cs:" + id)["status"], "open");
  // Asked about again a while later, not expired under the payment.
  EXPECT_EQ(expiry_score(id), now + redis::expiry_busy_retry_s);
  // The store is told the same: open, with a payment in progress (the
  // fourth re-test got "this one is expired" for a session that read as
  // open).
  EXPECT_EQ(get("/v1/checkout/sessions/" + id)["status"], "open");
  auto refused = stack().api_post("/v1/checkout/sessions/" + id + "/expire",
                                  {});
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("payment in progress"), std::string::npos)
    << refused.body;
  stack().sim_faults({{"latency_ms", 0}});
  auto outcome = stack().wait_for_outcome(id);
  EXPECT_EQ(outcome["payment_status"], "paid") << outcome.dump();
  // Paid: the commit step took it out of the set.
  EXPECT_EQ(expiry_score(id), -1);
  sweep_at(now + redis::expiry_busy_retry_s + 1);
  EXPECT_EQ(get("/v1/checkout/sessions/" + id)["status"], "complete");
  EXPECT_TRUE(events_about(id, "checkout.session.expired").empty());
}

TEST_F(session_expiry, the_endpoint_and_the_sweep_expire_a_session_once) {
  auto cs = stack().create_session(1900);
  auto id = cs["id"].get<std::string>();
  auto expired = stack().api_post("/v1/checkout/sessions/" + id + "/expire",
                                  {});
  ASSERT_EQ(expired.status, 200) << expired.body;
  EXPECT_EQ(expired.body_json()["status"], "expired");
  // Due now: the next sweep only takes it out of the set.
  auto score = expiry_score(id);
  EXPECT_GE(score, now_s() - 5);
  EXPECT_LE(score, now_s());
  sweep_at(now_s() + 1);
  EXPECT_EQ(expiry_score(id), -1);
  auto events = events_about(id, "checkout.session.expired");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["id"], expiry_event_id(id));
}

TEST_F(session_expiry, a_session_after_a_declined_card_still_expires) {
  auto cs = stack().create_session(2100);
  auto id = cs["id"].get<std::string>();
  auto pi = cs["payment_intent"].get<std::string>();
  auto declined = stack().pay(id, "4000000000000002");
  ASSERT_EQ(declined.status, 303) << declined.body;
  auto outcome = stack().wait_for_outcome(id);
  ASSERT_EQ(get("/v1/payment_intents/" + pi)["status"],
            "requires_payment_method")
    << outcome.dump();
  pass_expiry(id);
  sweep_at(now_s());
  EXPECT_EQ(get("/v1/checkout/sessions/" + id)["status"], "expired");
  EXPECT_EQ(get("/v1/payment_intents/" + pi)["status"], "canceled");
  EXPECT_EQ(events_about(id, "checkout.session.expired").size(), 1u);
}

TEST_F(session_expiry, a_backfill_puts_sessions_of_an_earlier_release_in_the_set) {
  // Written before the sweep existed: open sessions missing from the set.
  auto open = stack().create_session(1100);
  auto open_id = open["id"].get<std::string>();
  auto paid = stack().create_session(1300);
  auto paid_id = paid["id"].get<std::string>();
  ASSERT_EQ(stack().pay(paid_id).status, 303);
  ASSERT_EQ(stack().wait_for_outcome(paid_id)["payment_status"], "paid");
  stack().redis_cmd({"ZREM", keys::sessions_expiring, open_id});
  ASSERT_EQ(expiry_score(open_id), -1);

  auto done = redis::backfill_session_expiry(conn());
  ASSERT_FALSE(done.failed) << conn().last_error();
  EXPECT_GE(done.seen, 2u);
  EXPECT_GE(done.added, 1u);
  EXPECT_EQ(expiry_score(open_id), open["expires_at"].get<int64_t>());
  EXPECT_EQ(expiry_score(paid_id), -1); // complete: nothing to expire
  // Run again: nothing new, nothing moved.
  auto again = redis::backfill_session_expiry(conn());
  EXPECT_EQ(again.added, 0u);
  EXPECT_EQ(expiry_score(open_id), open["expires_at"].get<int64_t>());
}

TEST_F(session_expiry, the_store_releases_an_order_whose_session_expired) {
  auto url = stack().store_buy("mug", 2);
  auto id = url.substr(url.rfind('/') + 1);
  ASSERT_EQ(id.rfind("cs_", 0), 0u) << url;
  pass_expiry(id);
  sweep_at(now_s());
  json order = json::object();
  EXPECT_TRUE(wait_until(
    [&] {
      auto orders = stack().store_orders();
      for (auto& o : orders["orders"]) {
        if (o.value("session_id", "") == id) {
          order = o;
        }
      }
      return order.value("status", "") == "expired";
    },
    10s))
    << order.dump();
}

} // namespace
} // namespace psp::test
