// Goal: an Idempotency-Key claim held by a node that is gone is taken over
// as soon as the node's cluster registration lapses or changes, not only
// after the claim's lease; a claim of a live node is still in use, and a
// claim made outside a cluster waits for its lease as before. Runs the
// claim step itself against a real Redis (no node needed).

#include "adapters/redis/redis_connection.hpp"
#include "adapters/redis/scripts.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

namespace psp::test {
namespace {

constexpr const char* key = "idem:acct_1:order-1";
constexpr const char* node_key = "cluster:node:node-1";
constexpr int64_t lease_ms = 60'000;

class idempotency_claim : public ::testing::Test {
protected:
  redis_server server;
  redis::connection conn{redis::endpoint{"127.0.0.1", server.port()}, 2000};

  /// Claims `key` for run `owner` at `now_ms`, as node `registration`
  /// ("" outside a cluster); answers the verdict and the seed.
  std::pair<std::string, std::string> claim(const std::string& owner,
                                            int64_t now_ms,
                                            const std::string& registration) {
    auto out = redis::eval(conn, redis::idempotency_claim_script(), {key},
                           {"fingerprint-1", std::to_string(lease_ms), owner,
                            std::to_string(now_ms), "seed-" + owner, "86400",
                            registration});
    EXPECT_TRUE(out && out->is_array() && !out->elements.empty())
      << (out ? out->str : conn.last_error());
    if (!out || !out->is_array() || out->elements.empty()) {
      return {};
    }
    return {out->elements[0].text(),
            out->elements.size() > 1 ? out->elements[1].text() : ""};
  }

  void register_node(const std::string& value) {
    ASSERT_TRUE(conn.query({"SET", node_key, value}));
  }
};

TEST_F(idempotency_claim, a_live_nodes_claim_is_in_use_until_its_lease_ends) {
  register_node("tok-a|1|127.0.0.1:7000");
  EXPECT_EQ(claim("run-1", 1'000, node_key),
            (std::pair<std::string, std::string>{"claimed", "seed-run-1"}));
  EXPECT_EQ(claim("run-2", 2'000, node_key).first, "in_use");
  // After the lease even a live node's claim is taken over, seed kept.
  EXPECT_EQ(claim("run-3", 1'000 + lease_ms + 1, node_key),
            (std::pair<std::string, std::string>{"claimed", "seed-run-1"}));
}

TEST_F(idempotency_claim, a_dead_nodes_claim_is_taken_over_at_once) {
  register_node("tok-a|1|127.0.0.1:7000");
  ASSERT_EQ(claim("run-1", 1'000, node_key).first, "claimed");
  ASSERT_TRUE(conn.query({"DEL", node_key})); // its registration lapsed
  EXPECT_EQ(claim("run-2", 2'000, "cluster:node:node-2"),
            (std::pair<std::string, std::string>{"claimed", "seed-run-1"}))
    << "the retry must derive the first run's ids";
  // The new holder (node-2, registration missing) waits for its lease.
  EXPECT_EQ(claim("run-3", 2'500, node_key).first, "in_use");
}

TEST_F(idempotency_claim, the_node_taking_over_holds_the_claim_while_alive) {
  register_node("tok-a|1|127.0.0.1:7000");
  ASSERT_EQ(claim("run-1", 1'000, node_key).first, "claimed");
  ASSERT_TRUE(conn.query({"SET", "cluster:node:node-2", "tok-b|2|x:7001"}));
  ASSERT_TRUE(conn.query({"DEL", node_key}));
  ASSERT_EQ(claim("run-2", 2'000, "cluster:node:node-2").first, "claimed");
  EXPECT_EQ(claim("run-3", 2'500, node_key).first, "in_use")
    << "node-2 is alive: its claim holds";
}

TEST_F(idempotency_claim, a_node_that_registered_anew_lost_its_claims) {
  register_node("tok-a|1|127.0.0.1:7000");
  ASSERT_EQ(claim("run-1", 1'000, node_key).first, "claimed");
  register_node("tok-c|3|127.0.0.1:7000"); // restarted: a new epoch
  EXPECT_EQ(claim("run-2", 2'000, node_key),
            (std::pair<std::string, std::string>{"claimed", "seed-run-1"}));
}

TEST_F(idempotency_claim, outside_a_cluster_only_the_lease_frees_a_claim) {
  ASSERT_EQ(claim("run-1", 1'000, "").first, "claimed");
  EXPECT_EQ(claim("run-2", 2'000, "").first, "in_use");
  EXPECT_EQ(claim("run-3", 1'000 + lease_ms + 1, "").first, "claimed");
  // A cluster node whose registration is missing at claim time records
  // none either: its claim also waits for the lease.
  ASSERT_TRUE(conn.query({"DEL", key}));
  ASSERT_EQ(claim("run-4", 1'000, node_key).first, "claimed");
  EXPECT_EQ(claim("run-5", 2'000, node_key).first, "in_use");
}

TEST_F(idempotency_claim, a_finished_answer_keeps_no_claim_fields) {
  register_node("tok-a|1|127.0.0.1:7000");
  ASSERT_EQ(claim("run-1", 1'000, node_key).first, "claimed");
  auto done = redis::eval(conn, redis::idempotency_finish_script(), {key},
                          {"fingerprint-1", "200", "{}", "application/json",
                           "86400", "run-1"});
  ASSERT_TRUE(done && done->integer == 1);
  auto left = conn.query({"HMGET", key, "node_key", "node_reg", "owner"});
  ASSERT_TRUE(left && left->elements.size() == 3);
  for (auto& v : left->elements) {
    EXPECT_TRUE(v.is_nil());
  }
  ASSERT_TRUE(conn.query({"DEL", node_key}));
  EXPECT_EQ(claim("run-2", 2'000, node_key).first, "replay");
}

// A request whose claim got no answer (Redis stalled) answers 503; the
// janitor then frees the claim should Redis have applied it after all.
class abandoned_claim : public idempotency_claim {
protected:
  std::string abandon(const std::string& owner) {
    auto out = redis::eval(conn, redis::idempotency_abandon_script(), {key},
                           {"fingerprint-1", owner, "seed-" + owner});
    EXPECT_TRUE(out && !out->is_error())
      << (out ? out->str : conn.last_error());
    return out ? out->text() : "";
  }
};

TEST_F(abandoned_claim, waits_while_the_claim_may_still_land) {
  EXPECT_EQ(abandon("run-1"), "wait") << "no key yet";
  ASSERT_EQ(claim("run-2", 1'000, "").first, "claimed");
  EXPECT_EQ(abandon("run-1"), "wait")
    << "another run holds the key; its lease could end before ours lands";
  EXPECT_EQ(claim("run-3", 2'000, "").first, "in_use") << "untouched";
}

TEST_F(abandoned_claim, a_claim_with_its_own_fresh_seed_is_dropped_whole) {
  ASSERT_EQ(claim("run-1", 1'000, "").first, "claimed");
  EXPECT_EQ(abandon("run-1"), "freed");
  EXPECT_EQ(conn.query({"EXISTS", key})->integer, 0)
    << "nothing was written under its seed";
  EXPECT_EQ(claim("run-2", 2'000, ""),
            (std::pair<std::string, std::string>{"claimed", "seed-run-2"}));
}

TEST_F(abandoned_claim, a_taken_over_claim_frees_its_lease_and_keeps_the_seed) {
  ASSERT_EQ(claim("run-1", 1'000, "").first, "claimed");
  // run-1 crashed; run-2 took the key over after the lease, under run-1's
  // seed (run-1 may have created objects), then got no answer.
  ASSERT_EQ(claim("run-2", 1'000 + lease_ms + 1, "").first, "claimed");
  EXPECT_EQ(abandon("run-2"), "freed");
  EXPECT_EQ(claim("run-3", lease_ms + 2'000, ""),
            (std::pair<std::string, std::string>{"claimed", "seed-run-1"}))
    << "free at once, and the retry derives run-1's ids";
}

TEST_F(abandoned_claim, a_stored_answer_or_other_parameters_settle_it) {
  ASSERT_EQ(claim("run-1", 1'000, "").first, "claimed");
  ASSERT_TRUE(redis::eval(conn, redis::idempotency_finish_script(), {key},
                          {"fingerprint-1", "200", "{}", "application/json",
                           "86400", "run-1"}));
  EXPECT_EQ(abandon("run-1"), "settled");
  EXPECT_EQ(claim("run-2", 2'000, "").first, "replay");
  ASSERT_TRUE(conn.query({"DEL", key}));
  ASSERT_TRUE(conn.query({"HSET", key, "state", "running", "fingerprint",
                          "fingerprint-2", "owner", "run-1"}));
  EXPECT_EQ(abandon("run-1"), "settled");
  EXPECT_EQ(conn.query({"HGET", key, "owner"})->text(), "run-1")
    << "another request's claim is not touched";
}

} // namespace
} // namespace psp::test
