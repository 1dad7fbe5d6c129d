// Goal: every message type that may cross nodes survives CAF's binary
// serialization unchanged (an unregistered type would arrive empty).

#include "actors/messages.hpp"
#include "tests/actors/fakes.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/message.hpp>

#include <gtest/gtest.h>

namespace psp::test {
namespace {

class messages_test : public ::testing::Test {
public:
  messages_test() : sys(init(cfg)) {
  }

  /// Serializes `x` inside a caf::message (as BASP does) and reads it back.
  template <class T>
  T round_trip(const T& x) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    auto msg = caf::make_message(x);
    EXPECT_FALSE(sink(msg));
    caf::message out;
    caf::binary_deserializer source{sys, buf};
    EXPECT_FALSE(source(out));
    EXPECT_TRUE(out.match_element<T>(0)) << "type lost on the wire";
    return out.get_as<T>(0);
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;

private:
  static caf::actor_system_config& init(caf::actor_system_config& c) {
    c.add_message_types<caf::id_block::psp>();
    return c;
  }
};

TEST_F(messages_test, payment_job) {
  auto job = sample_job("pa_Z", 3);
  auto back = round_trip(job);
  EXPECT_EQ(back.entry_id, job.entry_id);
  EXPECT_EQ(back.attempt_id, "pa_Z");
  EXPECT_EQ(back.amount_minor, 2000);
  EXPECT_EQ(back.fee_bps, 290);
  EXPECT_EQ(back.sealed_card, "sealed");
  EXPECT_EQ(back.delivery_count, 3u);
  job.page_ordinal = 4;
  EXPECT_EQ(round_trip(job).page_ordinal, 4u);
  job.op = payment_op::capture;
  job.network_ref = "ch_7";
  job.held_minor = 5000;
  auto op = round_trip(job);
  EXPECT_EQ(op.op, payment_op::capture);
  EXPECT_EQ(op.network_ref, "ch_7");
  EXPECT_EQ(op.held_minor, 5000);
  auto jobs = round_trip(std::vector<payment_job>{job, job});
  EXPECT_EQ(jobs.size(), 2u);
}

TEST_F(messages_test, charge_messages) {
  charge_request req{"re_1", "cs_1:page_attempt:2", "pi_1", "acct_1", 123,
                     "eur",  "",   payment_op::refund,   "ch_1"};
  auto r = round_trip(req);
  EXPECT_EQ(r.idempotency_key, "cs_1:page_attempt:2");
  EXPECT_EQ(r.amount_minor, 123);
  EXPECT_EQ(r.currency, "eur");
  EXPECT_EQ(r.op, payment_op::refund);
  EXPECT_EQ(r.network_ref, "ch_1");
  auto res = round_trip(declined("expired_card"));
  EXPECT_EQ(res.outcome, charge_outcome::declined);
  EXPECT_EQ(res.decline_code, "expired_card");
  charge_result conflict;
  conflict.key_conflict = true;
  EXPECT_TRUE(round_trip(conflict).key_conflict);
}

TEST_F(messages_test, payment_commit) {
  payment_commit c;
  c.job = sample_job();
  c.charge = approved("ch_5");
  c.fee_minor = 88;
  c.transaction_id = "txn_1";
  c.postings = {{"a", 10, 0}, {"b", 0, 10}};
  c.events = {{"evt_1", "payment_intent.succeeded", "payment_intent"}};
  c.updates = {{"intent", "status", "succeeded"}};
  c.increments = {{"amount_refunded", -700}};
  c.balance = {"refund", "re_1", -700, 0};
  auto back = round_trip(c);
  ASSERT_EQ(back.updates.size(), 1u);
  EXPECT_EQ(back.updates[0].value, "succeeded");
  ASSERT_EQ(back.increments.size(), 1u);
  EXPECT_EQ(back.increments[0].delta_minor, -700);
  EXPECT_EQ(back.balance.source, "re_1");
  EXPECT_EQ(back.balance.amount_minor, -700);
  EXPECT_EQ(back.charge.charge_id, "ch_5");
  ASSERT_EQ(back.postings.size(), 2u);
  EXPECT_EQ(back.postings[1].credit_minor, 10);
  ASSERT_EQ(back.events.size(), 1u);
  EXPECT_EQ(back.events[0].object, "payment_intent");
}

TEST_F(messages_test, webhook_and_dead_letter_messages) {
  webhook_delivery d{"d1", "evt_1", "we_1", "http://x/y", "whsec_s", "{}", 2};
  auto back = round_trip(d);
  EXPECT_EQ(back.attempts_before, 2u);
  EXPECT_EQ(back.url, "http://x/y");
  auto rep = round_trip(delivery_report{"d1", false, 12345, 3, "HTTP 500"});
  EXPECT_EQ(rep.next_attempt_ms, 12345);
  auto reps = round_trip(std::vector<delivery_report>{
    {"d1", true, -1, 1, ""}, {"d2", false, 99, 2, "HTTP 503"}});
  ASSERT_EQ(reps.size(), 2u);
  EXPECT_EQ(reps[1].last_error, "HTTP 503");
  auto att = round_trip(delivery_attempt{true, 204, ""});
  EXPECT_EQ(att.http_status, 204);
  auto dl = round_trip(dead_letter_record{"payment", "pa_1", "1-0", "why", "pi",
                                          "node-1", "tok"});
  EXPECT_EQ(dl.reason, "why");
  EXPECT_EQ(dl.fence_token, "tok") << "a bury is fenced as a commit is";
  EXPECT_EQ(round_trip(attempt_status::superseded), attempt_status::superseded);
}

} // namespace
} // namespace psp::test
