// Goal: a webhook delivery's outcome is recorded under the claim it came
// from. A node that stalls past its claim's lease (a VM pause, SIGSTOP)
// finds, when it wakes, that another node claimed the delivery again; its
// failure must not move the retry, count an attempt twice or bury the
// delivery while the current claim may still get through, and its success
// is a fact worth keeping (the store has the event). Scripts against a real
// Redis, no node.

#include "adapters/redis/keys.hpp"
#include "adapters/redis/redis_connection.hpp"
#include "adapters/redis/scripts.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

namespace psp::test {
namespace {

const std::string event_id = "evt_1";
const std::string endpoint_id = "we_1";
const std::string delivery_id = event_id + ":" + endpoint_id;
constexpr int64_t lease_ms = 100;

class delivery_script : public ::testing::Test {
protected:
  redis_server server;
  redis::connection conn{redis::endpoint{"127.0.0.1", server.port()}, 2000};

  void SetUp() override {
    ASSERT_TRUE(conn.query({"HSET", "evt:" + event_id, "type",
                            "payment_intent.succeeded", "created",
                            "1700000000", "object", "payment_intent",
                            "snapshot", "{}", "wh:" + endpoint_id,
                            "pending|0||"}));
    ASSERT_TRUE(conn.query({"HSET", "we:" + endpoint_id, "url",
                            "http://127.0.0.1:9/hook", "secret", "whsec_x",
                            "status", "enabled"}));
    ASSERT_TRUE(conn.query({"ZADD", keys::deliveries_due, "0",
                            delivery_id}));
  }

  /// Claims what is due at `now_ms` for `node`: the delivery's lease then
  /// ends at now_ms + lease_ms, the claim's token.
  size_t claim(int64_t now_ms, const std::string& node) {
    auto out = redis::eval(conn, redis::claim_deliveries_script(),
                           {keys::deliveries_due, keys::delivery_claims},
                           {std::to_string(now_ms), std::to_string(lease_ms),
                            "10", node});
    EXPECT_TRUE(out && !out->is_error()) << (out ? out->str : "no answer");
    return out ? out->elements.size() : 0;
  }

  /// Records one outcome of the claim whose lease ends at `lease_until_ms`;
  /// answers how many outcomes were recorded.
  int64_t record(bool delivered, int attempts, int64_t next_ms,
                 int64_t lease_until_ms) {
    auto out = redis::eval(
      conn, redis::record_deliveries_script(),
      {keys::deliveries_due, keys::dead_letter_stream, keys::delivery_claims},
      {"1700000100", delivery_id, delivered ? "1" : "0",
       std::to_string(attempts), std::to_string(next_ms),
       delivered ? "" : "HTTP 500", std::to_string(lease_until_ms)});
    EXPECT_TRUE(out && !out->is_error()) << (out ? out->str : "no answer");
    return out ? out->integer : -1;
  }

  std::string record_field() {
    return conn.query({"HGET", "evt:" + event_id, "wh:" + endpoint_id})
      ->text();
  }

  std::string due_score() {
    return conn.query({"ZSCORE", keys::deliveries_due, delivery_id})->text();
  }

  std::string claimant() {
    return conn.query({"HGET", keys::delivery_claims, delivery_id})->text();
  }
};

TEST_F(delivery_script, the_current_claims_failure_moves_the_retry) {
  ASSERT_EQ(claim(1000, "node-a"), 1u);
  EXPECT_EQ(due_score(), "1100");
  EXPECT_EQ(record(false, 1, 5000, 1100), 1);
  EXPECT_EQ(record_field(), "pending|1||HTTP 500");
  EXPECT_EQ(due_score(), "5000");
  EXPECT_EQ(claimant(), "") << "the claim is over";
}

TEST_F(delivery_script, a_failure_under_a_lapsed_claim_is_not_recorded) {
  ASSERT_EQ(claim(1000, "node-a"), 1u);
  ASSERT_EQ(claim(2000, "node-b"), 1u) << "node-a's lease ended at 1100";
  EXPECT_EQ(record(false, 1, 9000, 1100), 0) << "node-a woke after its lease";
  EXPECT_EQ(record_field(), "pending|0||");
  EXPECT_EQ(due_score(), "2100") << "node-b's lease stands";
  EXPECT_EQ(claimant(), "node-b") << "so a release of node-b still frees it";
  EXPECT_EQ(record(false, 1, 3000, 2100), 1);
  EXPECT_EQ(record_field(), "pending|1||HTTP 500") << "one attempt, not two";
  EXPECT_EQ(due_score(), "3000");
}

TEST_F(delivery_script, a_lapsed_claims_last_try_buries_nothing) {
  ASSERT_EQ(claim(1000, "node-a"), 1u);
  ASSERT_EQ(claim(2000, "node-b"), 1u);
  EXPECT_EQ(record(false, 10, -1, 1100), 0);
  EXPECT_EQ(conn.query({"EXISTS", keys::dead_letter_stream})->integer, 0);
  EXPECT_EQ(record_field(), "pending|0||");
  EXPECT_EQ(due_score(), "2100");
}

TEST_F(delivery_script, a_lapsed_claim_that_got_through_is_delivered) {
  ASSERT_EQ(claim(1000, "node-a"), 1u);
  ASSERT_EQ(claim(2000, "node-b"), 1u);
  EXPECT_EQ(record(true, 1, -1, 1100), 1) << "the store has the event";
  EXPECT_EQ(record_field(), "delivered|1|1700000100|");
  EXPECT_EQ(due_score(), "") << "nothing left to send";
  EXPECT_EQ(claimant(), "");
  EXPECT_EQ(record(false, 1, 3000, 2100), 0) << "node-b's failure comes late";
  EXPECT_EQ(record_field(), "delivered|1|1700000100|");
  EXPECT_EQ(due_score(), "");
}

TEST_F(delivery_script, a_claim_released_as_its_nodes_is_no_longer_current) {
  // The majority saw node-a leave and freed its claims; node-a was only cut
  // off and reports late. The delivery is due now for another node.
  ASSERT_EQ(claim(1000, "node-a"), 1u);
  ASSERT_TRUE(redis::eval(conn, redis::release_deliveries_script(),
                          {keys::deliveries_due, keys::delivery_claims},
                          {"1050", "node-a"}));
  EXPECT_EQ(due_score(), "1050");
  EXPECT_EQ(record(false, 1, 9000, 1100), 0);
  EXPECT_EQ(due_score(), "1050");
  EXPECT_EQ(record_field(), "pending|0||");
}

} // namespace
} // namespace psp::test
