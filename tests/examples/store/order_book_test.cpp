// Checks the order book: order creation, marking paid from events, event
// deduplication, failure messages and the limits on orders and event ids.
#include "order_book.hpp"
#include "order_sync.hpp"
#include "psp_client.hpp"
#include "store_events.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

using namespace store;
using namespace store::test;

namespace {

constexpr int64_t now_s = 1'700'000'000;

} // namespace

TEST(order_book, creates_pending_orders_with_sequential_ids) {
  order_book book;
  auto a = book.create(tshirt(), 2, now_s);
  auto b = book.create(*find_product("mug"), 1, now_s);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->id, "ord_1");
  EXPECT_EQ(b->id, "ord_2");
  EXPECT_EQ(a->status, order_status::pending);
  EXPECT_EQ(a->amount_minor, 4000);
  EXPECT_EQ(a->currency, "usd");
  EXPECT_EQ(book.order_count(), 2u);
  ASSERT_TRUE(book.find("ord_2"));
  EXPECT_EQ(book.find("ord_2")->product_id, "mug");
  EXPECT_FALSE(book.find("ord_3"));
  EXPECT_FALSE(book.find("ord_0"));
  EXPECT_FALSE(book.find("ord_01"));
  EXPECT_FALSE(book.find("order_1"));
  EXPECT_FALSE(book.find(""));
}

TEST(order_book, attaches_the_checkout_session) {
  order_book book;
  book.create(tshirt(), 1, now_s);
  EXPECT_TRUE(book.attach_session("ord_1", "cs_test_1", "pi_1",
                                  "http://psp/pay/cs_test_1"));
  EXPECT_FALSE(book.attach_session("ord_9", "cs_test_9", "", ""));
  auto o = book.find_by_session("cs_test_1");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->id, "ord_1");
  EXPECT_EQ(o->payment_intent, "pi_1");
  EXPECT_EQ(o->checkout_url, "http://psp/pay/cs_test_1");
  EXPECT_FALSE(book.find_by_session("cs_other"));
}

TEST(order_book, checkout_completed_marks_the_order_paid) {
  order_book book;
  book.create(tshirt(), 1, now_s);
  EXPECT_EQ(book.apply(completed("evt_1", "ord_1"), now_s + 5),
            apply_outcome::applied);
  auto o = book.find("ord_1");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->status, order_status::paid);
  EXPECT_EQ(o->session_id, "cs_test_1");
  EXPECT_EQ(o->payment_intent, "pi_1");
  ASSERT_EQ(o->events.size(), 1u);
  EXPECT_EQ(o->events[0].id, "evt_1");
  EXPECT_EQ(o->events[0].type, "checkout.session.completed");
  EXPECT_EQ(o->events[0].received_unix_s, now_s + 5);
}

TEST(order_book, completed_but_unpaid_session_stays_pending) {
  order_book book;
  book.create(tshirt(), 1, now_s);
  auto ev = completed("evt_1", "ord_1");
  ev.payment_status = "unpaid";
  EXPECT_EQ(book.apply(ev, now_s), apply_outcome::applied);
  EXPECT_EQ(book.find("ord_1")->status, order_status::pending);
}

TEST(order_book, an_expired_session_expires_a_pending_order_only) {
  order_book book;
  book.create(tshirt(), 1, now_s);
  book.create(mug(), 1, now_s);
  EXPECT_EQ(book.apply(expired("evt_1", "ord_1"), now_s + 1800),
            apply_outcome::applied);
  EXPECT_EQ(book.find("ord_1")->status, order_status::expired);
  EXPECT_STREQ(to_string(order_status::expired), "expired");
  // A paid order stays paid whatever arrives after.
  ASSERT_EQ(book.apply(completed("evt_2", "ord_2", "cs_test_2", "pi_2"),
                       now_s + 5),
            apply_outcome::applied);
  book.apply(expired("evt_3", "ord_2", "cs_test_2"), now_s + 1800);
  EXPECT_EQ(book.find("ord_2")->status, order_status::paid);
}

TEST(order_book, a_sync_marks_an_order_paid_or_expired_as_the_psp_says) {
  order_book book;
  book.create(tshirt(), 1, now_s);
  book.create(mug(), 1, now_s);
  book.attach_session("ord_1", "cs_test_1", "pi_1", "u");
  book.attach_session("ord_2", "cs_test_2", "pi_2", "u");
  checkout_session open{"cs_test_1", "u", "open", "unpaid", "pi_1", "ord_1",
                        2000, "usd"};
  EXPECT_FALSE(sync_order(book, *book.find("ord_1"), open, now_s));
  auto expired = open;
  expired.status = "expired";
  EXPECT_TRUE(sync_order(book, *book.find("ord_1"), expired, now_s));
  EXPECT_EQ(book.find("ord_1")->status, order_status::expired);
  EXPECT_FALSE(sync_order(book, *book.find("ord_1"), expired, now_s));
  checkout_session paid{"cs_test_2", "u", "complete", "paid", "pi_2", "ord_2",
                        1200, "usd"};
  EXPECT_TRUE(sync_order(book, *book.find("ord_2"), paid, now_s));
  EXPECT_EQ(book.find("ord_2")->status, order_status::paid);
}

namespace {

/// Answers the catch-up's two calls from tables; records the creates.
class scripted_psp : public psp_api {
public:
  std::vector<checkout_request> creates;
  psp_result<checkout_session> create_answer;
  std::vector<checkout_session> sessions;

  psp_result<webhook_endpoint> create_webhook_endpoint(const std::string&) override {
    return {};
  }
  psp_result<checkout_session>
  create_checkout_session(const checkout_request& req) override {
    creates.push_back(req);
    return create_answer;
  }
  psp_result<checkout_session>
  retrieve_checkout_session(const std::string& id) override {
    for (auto& s : sessions) {
      if (s.id == id) {
        return {s, {}};
      }
    }
    return {std::nullopt, {404, "invalid_request_error", "resource_missing",
                           "No such checkout.session"}};
  }
};

} // namespace

TEST(order_book, catch_up_sends_a_cut_off_create_again_and_settles_the_rest) {
  order_book book;
  auto cut = book.create(tshirt(), 3, now_s); // journaled, then the stop
  book.create(mug(), 1, now_s);
  book.attach_session("ord_2", "cs_test_2", "pi_2", "u2");
  book.create(mug(), 1, now_s);
  book.attach_session("ord_3", "cs_test_3", "pi_3", "u3");
  book.apply(completed("evt_3", "ord_3"), now_s); // paid: left alone
  scripted_psp psp;
  psp.create_answer = {checkout_session{"cs_test_1", "https://psp/pay/cs_test_1",
                                        "open", "unpaid", "pi_1", "ord_1", 6000,
                                        "usd"},
                       {}};
  psp.sessions.push_back({"cs_test_2", "u2", "complete", "paid", "pi_2", "ord_2",
                          1200, "usd"});
  std::atomic<bool> stopping{false};

  auto r = catch_up_pending_orders(book, psp, "http://shop", stopping);
  EXPECT_EQ(r.attached, 1u);
  EXPECT_EQ(r.settled, 1u);
  EXPECT_EQ(r.refused, 0u);
  ASSERT_EQ(psp.creates.size(), 1u);
  // The request as it was first sent, under the order's own key.
  auto& req = psp.creates[0];
  EXPECT_EQ(req.idempotency_key, cut->idempotency_key);
  EXPECT_EQ(req.order_id, "ord_1");
  EXPECT_EQ(req.quantity, 3);
  EXPECT_EQ(req.unit_amount_minor, tshirt().unit_amount_minor);
  EXPECT_EQ(req.product_name, tshirt().name);
  EXPECT_EQ(req.currency, "usd");
  EXPECT_EQ(req.public_url, "http://shop");
  EXPECT_EQ(book.find("ord_1")->session_id, "cs_test_1");
  EXPECT_EQ(book.find("ord_1")->checkout_url, "https://psp/pay/cs_test_1");
  EXPECT_EQ(book.find("ord_1")->status, order_status::pending);
  EXPECT_EQ(book.find("ord_2")->status, order_status::paid);

  // Once attached, the next catch-up asks about it instead of creating.
  psp.creates.clear();
  catch_up_pending_orders(book, psp, "http://shop", stopping);
  EXPECT_TRUE(psp.creates.empty());
}

TEST(order_book, catch_up_counts_a_refused_create_and_leaves_the_order_as_is) {
  order_book book;
  book.create(tshirt(), 1, now_s);
  scripted_psp psp;
  psp.create_answer = {std::nullopt, {400, "idempotency_error", "",
                                      "Keys for idempotent requests can only "
                                      "be used with the same parameters"}};
  std::atomic<bool> stopping{false};
  auto r = catch_up_pending_orders(book, psp, "http://moved", stopping);
  EXPECT_EQ(r.refused, 1u);
  EXPECT_EQ(r.attached, 0u);
  EXPECT_TRUE(book.find("ord_1")->session_id.empty());
  // No answer at all is neither: the next start tries again.
  psp.create_answer = {std::nullopt, {0, "", "", "connection refused"}};
  r = catch_up_pending_orders(book, psp, "http://shop", stopping);
  EXPECT_EQ(r.refused + r.attached, 0u);
}

TEST(order_book, redelivered_event_is_a_duplicate_and_not_reapplied) {
  order_book book;
  book.create(tshirt(), 1, now_s);
  EXPECT_EQ(book.apply(completed("evt_1", "ord_1"), now_s),
            apply_outcome::applied);
  EXPECT_EQ(book.apply(completed("evt_1", "ord_1"), now_s),
            apply_outcome::duplicate);
  EXPECT_EQ(book.find("ord_1")->events.size(), 1u);
  EXPECT_EQ(book.events().size(), 1u);
}

TEST(order_book, concurrent_redeliveries_apply_once) {
  order_book book;
  book.create(tshirt(), 1, now_s);
  std::atomic<int> applied{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (book.apply(completed("evt_1", "ord_1"), now_s) ==
          apply_outcome::applied) {
        ++applied;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(applied.load(), 1);
  EXPECT_EQ(book.find("ord_1")->events.size(), 1u);
}

TEST(order_book, payment_failure_records_message_and_stays_pending) {
  order_book book;
  book.create(tshirt(), 1, now_s);
  book.attach_session("ord_1", "cs_test_1", "pi_1", "http://psp/pay");
  // Found through the payment intent: the event carries no order id.
  EXPECT_EQ(
      book.apply(failed("evt_1", "pi_1", "Your card was declined."), now_s),
      apply_outcome::applied);
  auto o = book.find("ord_1");
  EXPECT_EQ(o->status, order_status::pending);
  EXPECT_EQ(o->last_failure_message, "Your card was declined.");
  EXPECT_EQ(book.apply(failed("evt_2", "pi_1", "Insufficient funds."), now_s),
            apply_outcome::applied);
  EXPECT_EQ(book.find("ord_1")->last_failure_message, "Insufficient funds.");
  // A later success still marks it paid.
  book.apply(completed("evt_3", "ord_1"), now_s);
  o = book.find("ord_1");
  EXPECT_EQ(o->status, order_status::paid);
  EXPECT_EQ(o->events.size(), 3u);
}

TEST(order_book, events_for_unknown_orders_are_kept_globally) {
  order_book book;
  EXPECT_EQ(book.apply(completed("evt_1", "ord_42"), now_s),
            apply_outcome::unknown_order);
  EXPECT_EQ(book.apply(completed("evt_1", "ord_42"), now_s),
            apply_outcome::duplicate);
  auto events = book.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id, "evt_1");
  EXPECT_EQ(events[0].order_id, "");
}

TEST(order_book, an_order_id_with_another_payment_is_not_that_order) {
  order_book book;
  book.create(tshirt(), 1, now_s);
  ASSERT_TRUE(book.attach_session("ord_1", "cs_test_new", "pi_new", ""));
  // An earlier run's ord_1 was paid with cs_test_1 / pi_1.
  EXPECT_EQ(book.apply(completed("evt_old", "ord_1"), now_s),
            apply_outcome::unknown_order);
  EXPECT_EQ(book.find("ord_1")->status, order_status::pending);
  auto ours = completed("evt_new", "ord_1");
  ours.object_id = "cs_test_new";
  ours.payment_intent = "pi_new";
  EXPECT_EQ(book.apply(ours, now_s), apply_outcome::applied);
  EXPECT_EQ(book.find("ord_1")->status, order_status::paid);
}

TEST(order_book, refuses_orders_beyond_the_limit) {
  order_limits limits;
  limits.orders_max = 3;
  order_book book(limits);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(book.create(tshirt(), 1, now_s));
  }
  EXPECT_FALSE(book.create(tshirt(), 1, now_s));
  EXPECT_EQ(book.order_count(), 3u);
}

TEST(order_book, forgets_the_oldest_event_ids_beyond_the_limit) {
  order_limits limits;
  limits.event_ids_max = 3;
  order_book book(limits);
  for (int i = 1; i <= 4; ++i) {
    book.apply(completed("evt_" + std::to_string(i), "ord_x"), now_s);
  }
  EXPECT_EQ(book.event_ids_remembered(), 3u);
  auto events = book.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events.front().id, "evt_2");
  EXPECT_EQ(book.apply(completed("evt_4", "ord_x"), now_s),
            apply_outcome::duplicate);
  // evt_1 was forgotten, so it counts as new again.
  EXPECT_EQ(book.apply(completed("evt_1", "ord_x"), now_s),
            apply_outcome::unknown_order);
}

TEST(order_book, caps_events_listed_per_order) {
  order_limits limits;
  limits.events_per_order_max = 2;
  order_book book(limits);
  book.create(tshirt(), 1, now_s);
  for (int i = 1; i <= 5; ++i) {
    book.apply(completed("evt_" + std::to_string(i), "ord_1"), now_s);
  }
  auto o = book.find("ord_1");
  EXPECT_EQ(o->events.size(), 2u);
  EXPECT_EQ(o->events_dropped, 3u);
}
