// Clocks of the benchmark driver: a monotonic one for durations and the
// wall clock for timestamps other tools (MONITOR logs) can be matched with.
#pragma once

#include <chrono>
#include <cstdint>

namespace bench {

/// Monotonic nanoseconds; only differences mean anything.
inline int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

/// Wall-clock seconds since the Unix epoch, with sub-second precision.
inline double unix_s() {
  return std::chrono::duration<double>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

inline double ns_to_ms(int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

inline double ns_to_s(int64_t ns) {
  return static_cast<double>(ns) / 1e9;
}

} // namespace bench
