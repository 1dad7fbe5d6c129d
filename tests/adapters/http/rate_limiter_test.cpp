// Goal: the per-merchant token bucket admits the burst, then the rate, per
// merchant, and refills with time (the clock is passed in: no sleeps).

#include "adapters/http/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace psp::http {
namespace {

using namespace std::chrono_literals;

TEST(rate_limiter, admits_the_burst_then_refuses_until_refilled) {
  rate_limiter limiter{10, 3};
  auto t0 = rate_limiter::clock::now();
  EXPECT_TRUE(limiter.admit("m1", t0));
  EXPECT_TRUE(limiter.admit("m1", t0));
  EXPECT_TRUE(limiter.admit("m1", t0));
  EXPECT_FALSE(limiter.admit("m1", t0));
  EXPECT_TRUE(limiter.admit("m2", t0)) << "buckets are per merchant";
  EXPECT_FALSE(limiter.admit("m1", t0 + 50ms)) << "half a token";
  EXPECT_TRUE(limiter.admit("m1", t0 + 100ms));
  EXPECT_FALSE(limiter.admit("m1", t0 + 100ms));
  // A long pause refills to the burst, not beyond.
  int admitted = 0;
  for (int i = 0; i < 10; ++i) {
    admitted += limiter.admit("m1", t0 + 10s) ? 1 : 0;
  }
  EXPECT_EQ(admitted, 3);
}

TEST(rate_limiter, zero_rate_means_unlimited) {
  rate_limiter limiter{0, 0};
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(limiter.admit("m1"));
  }
}

} // namespace
} // namespace psp::http
