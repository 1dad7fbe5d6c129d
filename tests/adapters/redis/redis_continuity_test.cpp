// Goal: a node tells a Redis that kept what it acknowledged from one that
// was emptied, swapped for another data set or rolled back, from the two
// markers alone (decision 62), and says which in words an operator can act
// on.

#include "adapters/redis/redis_continuity.hpp"

#include <gtest/gtest.h>

namespace psp::redis {
namespace {

continuity_mark mark(std::optional<std::string> epoch, int64_t sequence) {
  return continuity_mark{std::move(epoch), sequence};
}

TEST(redis_continuity, a_sequence_that_moved_on_is_kept) {
  EXPECT_EQ(judge_continuity(mark("epoch_a", 41), mark("epoch_a", 42)),
            continuity_verdict::kept);
  // Other nodes increment too: any step forward is fine.
  EXPECT_EQ(judge_continuity(mark("epoch_a", 41), mark("epoch_a", 9'000)),
            continuity_verdict::kept);
}

TEST(redis_continuity, a_sequence_that_did_not_move_on_was_rolled_back) {
  // This node's own increment makes every honest answer larger.
  EXPECT_EQ(judge_continuity(mark("epoch_a", 42), mark("epoch_a", 42)),
            continuity_verdict::rolled_back);
  EXPECT_EQ(judge_continuity(mark("epoch_a", 42), mark("epoch_a", 7)),
            continuity_verdict::rolled_back);
  // The sequence key alone lost: INCR starts again from 1.
  EXPECT_EQ(judge_continuity(mark("epoch_a", 42), mark("epoch_a", 1)),
            continuity_verdict::rolled_back);
}

TEST(redis_continuity, a_missing_or_other_epoch_is_another_data_set) {
  EXPECT_EQ(judge_continuity(mark("epoch_a", 42), mark(std::nullopt, 0)),
            continuity_verdict::emptied);
  // Whatever the sequence says: another data set's count means nothing.
  EXPECT_EQ(judge_continuity(mark("epoch_a", 42), mark("epoch_b", 900)),
            continuity_verdict::replaced);
  EXPECT_EQ(judge_continuity(mark("epoch_a", 42), mark("epoch_b", 1)),
            continuity_verdict::replaced);
}

// A node that starts judges Redis against the mark its disk kept
// (decision 67), reading the sequence without incrementing it: the same
// epoch must hold at least the kept sequence.
TEST(redis_continuity, a_restart_judges_the_kept_mark_without_moving_it) {
  auto kept = mark("epoch_a", 42);
  continuity_acceptance none;
  EXPECT_EQ(judge_restart(kept, mark("epoch_a", 60), none),
            continuity_verdict::kept);
  // Nothing incremented since: still what it saw.
  EXPECT_EQ(judge_restart(kept, mark("epoch_a", 42), none),
            continuity_verdict::kept);
  EXPECT_EQ(judge_restart(kept, mark("epoch_a", 41), none),
            continuity_verdict::rolled_back);
  EXPECT_EQ(judge_restart(kept, mark(std::nullopt, 0), none),
            continuity_verdict::emptied);
  EXPECT_EQ(judge_restart(kept, mark("epoch_b", 900), none),
            continuity_verdict::replaced);
}

/// A mark taken at Redis time `time_us`.
continuity_mark mark_at(std::string epoch, int64_t sequence, int64_t time_us) {
  continuity_mark out{std::move(epoch), sequence};
  out.redis_time_us = time_us;
  return out;
}

TEST(redis_continuity, only_an_acceptance_after_the_kept_mark_covers_it) {
  auto kept = mark_at("epoch_a", 42, 1'000);
  EXPECT_EQ(judge_restart(kept, mark("epoch_b", 3), {"epoch_b", 2'000}),
            continuity_verdict::accepted);
  // An acceptance of another data set says nothing of this one.
  EXPECT_EQ(judge_restart(kept, mark("epoch_c", 3), {"epoch_b", 2'000}),
            continuity_verdict::replaced);
  // The re-test: a backup taken after one acceptance, restored after a
  // second. It carries its own, older acceptance, made before the marks
  // the nodes took since: not theirs.
  EXPECT_EQ(judge_restart(mark_at("epoch_c", 90, 5'000), mark("epoch_b", 60),
                          {"epoch_b", 2'000}),
            continuity_verdict::replaced);
  // Nor does an acceptance excuse the accepted data set going back later.
  EXPECT_EQ(judge_restart(mark_at("epoch_b", 90, 3'000), mark("epoch_b", 50),
                          {"epoch_b", 2'000}),
            continuity_verdict::rolled_back);
  EXPECT_EQ(judge_restart(kept, mark(std::nullopt, 0), {"epoch_b", 2'000}),
            continuity_verdict::emptied);
  EXPECT_NE(describe(continuity_verdict::accepted, kept, mark("epoch_b", 3))
              .find("accepted"),
            std::string::npos);
}

TEST(redis_continuity, a_loss_a_node_recorded_stops_every_node) {
  // Whatever the sequence says: nodes that went on (under warn) may have
  // carried it back over the marks others kept.
  auto now = mark("epoch_a", 900);
  now.recorded_loss = "psp:redis_sequence went back from 50 to 40";
  EXPECT_EQ(judge_continuity(mark("epoch_a", 41), now),
            continuity_verdict::loss_recorded);
  EXPECT_EQ(judge_restart(mark("epoch_a", 41), now, {"epoch_a", 9'999}),
            continuity_verdict::loss_recorded);
  EXPECT_NE(describe(continuity_verdict::loss_recorded, mark("epoch_a", 41), now)
              .find("went back from 50 to 40"),
            std::string::npos);
}

TEST(redis_continuity, the_description_names_the_marker_and_the_values) {
  auto last = mark("epoch_a", 42);
  auto back = mark("epoch_a", 7);
  auto text = describe(continuity_verdict::rolled_back, last, back);
  EXPECT_NE(text.find(redis_sequence_key), std::string::npos) << text;
  EXPECT_NE(text.find("from 42 to 7"), std::string::npos) << text;
  EXPECT_NE(describe(continuity_verdict::emptied, last, mark(std::nullopt, 0))
              .find(redis_epoch_key),
            std::string::npos);
  EXPECT_NE(describe(continuity_verdict::replaced, last, mark("epoch_b", 3))
              .find("another data set"),
            std::string::npos);
}

// The node's clock follows Redis's on the monotonic clock (decision 63).
constexpr int64_t redis_now_us = 1'796'000'000'000'000;

TEST(redis_clock, the_offset_is_measured_at_the_round_trips_middle) {
  // Sent at 1,000 µs, answered at 1,400 µs: Redis read its clock at ~1,200.
  EXPECT_EQ(follow_redis_clock(0, 1'000, 1'400, redis_now_us),
            redis_now_us - 1'200);
}

TEST(redis_clock, a_slow_round_trip_is_not_trusted) {
  EXPECT_EQ(follow_redis_clock(0, 1'000, 11'001, redis_now_us), std::nullopt);
  EXPECT_EQ(follow_redis_clock(5, 1'000, 900, redis_now_us), std::nullopt);
  EXPECT_TRUE(follow_redis_clock(0, 1'000, 11'000, redis_now_us));
}

TEST(redis_clock, drift_under_a_millisecond_waits_then_is_corrected) {
  auto current = redis_now_us - 1'200;
  EXPECT_EQ(follow_redis_clock(current, 1'000, 1'400, redis_now_us + 999),
            std::nullopt);
  EXPECT_EQ(follow_redis_clock(current, 1'000, 1'400, redis_now_us - 999),
            std::nullopt);
  EXPECT_EQ(follow_redis_clock(current, 1'000, 1'400, redis_now_us + 1'000),
            current + 1'000);
  // Redis's clock stepped an hour: followed at once.
  EXPECT_EQ(follow_redis_clock(current, 1'000, 1'400,
                               redis_now_us + 3'600'000'000),
            current + 3'600'000'000);
}

} // namespace
} // namespace psp::redis
