// Goal: a background round that throws (the archiver, the session sweep, the
// reconciliation scheduler all run on periodic_thread) is logged and the
// next round still runs; uncaught, it would have ended the whole node.

#include "runtime/periodic_thread.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace {

TEST(periodic_thread, a_round_that_throws_does_not_end_the_rounds) {
  std::atomic<int> rounds{0};
  psp::periodic_thread t{"test.rounds", 1, [&rounds] {
                           if (++rounds == 1) {
                             throw std::runtime_error{"unexpected reply"};
                           }
                         }};
  t.start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (rounds.load() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  t.stop();
  EXPECT_GE(rounds.load(), 3);
}

} // namespace
