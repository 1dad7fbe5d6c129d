#pragma once

// What this node's webhook deliveries came to since it started, for
// /metrics: the delivery store counts each recorded outcome, the HTTP
// adapter reads them. Failed tries are otherwise seen only in Redis
// (an event's delivery record), where no operator looks.

#include <atomic>
#include <cstdint>

namespace psp::redis {

struct delivery_counters {
  std::atomic<uint64_t> delivered{0};
  /// Tries that failed (an error status, a timeout, a refused connection,
  /// a wait for a connection that ran out), the last one included.
  std::atomic<uint64_t> failed{0};
  /// Deliveries whose tries ran out: moved to the dead-letter stream.
  std::atomic<uint64_t> dead_lettered{0};
};

} // namespace psp::redis
