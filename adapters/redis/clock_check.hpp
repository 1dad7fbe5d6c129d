#pragma once

// Leases in Redis (an Idempotency-Key's claim, a webhook delivery's) are
// written with one node's clock and judged expired with another's: a node
// whose clock runs ahead by more than a lease takes over work another node
// is still doing (a request run twice at once). Redis's clock is the one
// every node can compare with, so a node measures its offset from Redis's
// TIME when it starts; two nodes within d of Redis are within 2d of each
// other.

#include "adapters/redis/redis_connection.hpp"

#include <cstdint>
#include <optional>

namespace psp::redis {

struct clock_offset {
  int64_t offset_ms = 0;      ///< this machine's clock minus Redis's
  int64_t uncertainty_ms = 0; ///< half the round trip it was measured in
};

/// TIME's answer (seconds, microseconds: two strings) in µs; nullopt when
/// they are not numbers.
std::optional<int64_t> time_reply_us(const value& seconds,
                                     const value& micros);

/// One TIME round trip; nullopt when Redis does not answer it.
std::optional<clock_offset> measure_clock_offset(connection& conn);

/// Redis's clock in Unix seconds (one TIME round trip); nullopt when Redis
/// does not answer. For decisions every node must make alike whatever its
/// own clock says: which reconciliation periods have ended, whether a run
/// is provisional (the clock audit: a node 10 min ahead stored a period
/// that had not ended as final, with false differences).
std::optional<int64_t> redis_time_s(connection& conn);

enum class clock_verdict { fine, warn, refuse };

/// refuse when the offset is surely above a quarter of the shortest lease
/// (two nodes then differ by up to half of it); warn above a second.
clock_verdict judge_clock_offset(const clock_offset& measured,
                                 int64_t shortest_lease_ms);

} // namespace psp::redis
