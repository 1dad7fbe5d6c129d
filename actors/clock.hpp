#pragma once

// Wall time as the node tells it: Redis's clock, followed on this process's
// monotonic clock. The leases, retry times, expiries and `created` stamps
// every node writes to Redis are compared by other nodes, so they must come
// from one clock, and a node's own wall clock may be stepped or drift (the
// clock audit: a node stepped 2 h ahead dead-lettered webhooks at once and
// expired sessions early). The node's continuity watch measures Redis's
// TIME against the monotonic clock each second (decision 63); until it has,
// and in processes without one (psp-admin, tests), the system clock.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace psp {

/// This machine's wall clock, as it is (for measuring it against Redis's).
inline int64_t system_now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch())
    .count();
}

inline int64_t steady_now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch())
    .count();
}

/// Redis's time minus the monotonic clock, in µs; 0 until measured (the
/// monotonic clock starts near boot, so a measured value is never 0).
inline std::atomic<int64_t> redis_minus_steady_us{0};

inline int64_t unix_now_us() {
  auto offset = redis_minus_steady_us.load(std::memory_order_relaxed);
  return offset != 0 ? steady_now_us() + offset : system_now_us();
}

inline int64_t unix_now_ms() { return unix_now_us() / 1'000; }

inline int64_t unix_now_s() { return unix_now_us() / 1'000'000; }

} // namespace psp
