// Goal: a node starting on a Redis that still holds jobs in the single
// payment stream of releases before the partitions moves each job, bytes
// unchanged, to its intent's partition, pending ones included; moving twice
// moves nothing twice; an undecodable entry stays where it is (never
// dropped); the old stream goes once empty.

#include "adapters/redis/job_codec.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/legacy_stream.hpp"
#include "adapters/redis/redis_connection.hpp"
#include "tests/actors/fakes.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

namespace psp::test {
namespace {

class stream_migration : public ::testing::Test {
protected:
  redis_server server;
  redis::connection conn{redis::endpoint{"127.0.0.1", server.port()}, 2000};

  std::string queue_legacy(const std::string& intent_id) {
    auto job = sample_job("pa_" + intent_id);
    job.intent_id = intent_id;
    auto bytes = redis::encode_job(job);
    auto id = conn.query({"XADD", redis::legacy_payment_stream, "*", "job",
                          bytes});
    EXPECT_TRUE(id);
    return bytes;
  }

  /// The job bytes on the intent's partition (one entry expected).
  std::vector<std::string> on_partition(const std::string& intent_id) {
    std::vector<std::string> out;
    auto entries = conn.query({"XRANGE", keys::payment_stream_for(intent_id),
                               "-", "+"});
    for (auto& e : entries->elements) {
      out.push_back(e.elements[1].elements.at(1).text());
    }
    return out;
  }

  size_t migrate() {
    std::string err;
    auto moved = redis::migrate_legacy_payment_stream(conn, err);
    EXPECT_TRUE(moved) << err;
    return moved.value_or(0);
  }
};

TEST_F(stream_migration, jobs_move_to_their_partitions_pending_ones_too) {
  std::vector<std::string> intents{"pi_a", "pi_b", "pi_c", "pi_d"};
  std::map<std::string, std::string> bytes;
  for (auto& pi : intents) {
    bytes[pi] = queue_legacy(pi);
  }
  // One entry was read by a node of the old release and is pending there.
  ASSERT_TRUE(conn.query({"XGROUP", "CREATE", redis::legacy_payment_stream,
                          keys::payment_group, "0"}));
  ASSERT_TRUE(conn.query({"XREADGROUP", "GROUP", keys::payment_group,
                          "node-old", "COUNT", "1", "STREAMS",
                          redis::legacy_payment_stream, ">"}));

  EXPECT_EQ(migrate(), intents.size());
  for (auto& pi : intents) {
    EXPECT_EQ(on_partition(pi), std::vector<std::string>{bytes[pi]}) << pi;
  }
  EXPECT_EQ(conn.query({"EXISTS", redis::legacy_payment_stream})->integer, 0);
  EXPECT_EQ(migrate(), 0u) << "nothing left to move";
  EXPECT_EQ(on_partition("pi_a").size(), 1u);
}

TEST_F(stream_migration, an_undecodable_entry_stays_and_the_rest_move) {
  queue_legacy("pi_a");
  ASSERT_TRUE(conn.query({"XADD", redis::legacy_payment_stream, "*", "job",
                          "not a job"}));
  queue_legacy("pi_b");
  EXPECT_EQ(migrate(), 2u);
  EXPECT_EQ(conn.query({"XLEN", redis::legacy_payment_stream})->integer, 1);
  EXPECT_EQ(migrate(), 0u);
  EXPECT_EQ(conn.query({"XLEN", redis::legacy_payment_stream})->integer, 1);
  EXPECT_EQ(on_partition("pi_a").size(), 1u);
  EXPECT_EQ(on_partition("pi_b").size(), 1u);
}

TEST_F(stream_migration, a_redis_without_the_old_stream_is_left_alone) {
  EXPECT_EQ(migrate(), 0u);
  auto keys = conn.query({"KEYS", "*"});
  EXPECT_TRUE(keys->elements.empty());
}

} // namespace
} // namespace psp::test
