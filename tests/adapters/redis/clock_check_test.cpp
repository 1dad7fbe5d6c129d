// Goal: a node refuses to start only when its clock is surely more than a
// quarter of the shortest lease off Redis's (the measurement's uncertainty
// counts in its favour), warns above a second, and is quiet below.

#include "adapters/redis/clock_check.hpp"

#include <gtest/gtest.h>

namespace psp::redis {
namespace {

constexpr int64_t lease_ms = 60'000;

TEST(clock_check, close_clocks_are_fine) {
  EXPECT_EQ(judge_clock_offset({0, 0}, lease_ms), clock_verdict::fine);
  EXPECT_EQ(judge_clock_offset({900, 1}, lease_ms), clock_verdict::fine);
  EXPECT_EQ(judge_clock_offset({-1'000, 0}, lease_ms), clock_verdict::fine);
}

TEST(clock_check, a_second_or_more_off_is_a_warning) {
  EXPECT_EQ(judge_clock_offset({1'001, 0}, lease_ms), clock_verdict::warn);
  EXPECT_EQ(judge_clock_offset({-14'000, 0}, lease_ms), clock_verdict::warn);
  // Exactly a quarter of the lease: two nodes at most half a lease apart.
  EXPECT_EQ(judge_clock_offset({15'000, 0}, lease_ms), clock_verdict::warn);
}

TEST(clock_check, more_than_a_quarter_lease_off_is_refused_either_way) {
  EXPECT_EQ(judge_clock_offset({15'001, 0}, lease_ms), clock_verdict::refuse);
  EXPECT_EQ(judge_clock_offset({-3'600'000, 0}, lease_ms),
            clock_verdict::refuse);
  // A shorter lease lowers the bar.
  EXPECT_EQ(judge_clock_offset({3'000, 0}, 10'000), clock_verdict::refuse);
}

TEST(clock_check, the_uncertainty_counts_for_the_node) {
  // A slow round trip cannot prove a large offset.
  EXPECT_EQ(judge_clock_offset({15'500, 600}, lease_ms), clock_verdict::warn);
  EXPECT_EQ(judge_clock_offset({1'400, 500}, lease_ms), clock_verdict::fine);
}

} // namespace
} // namespace psp::redis
