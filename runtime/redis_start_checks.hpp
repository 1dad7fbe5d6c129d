#pragma once

// What a node checks of its Redis before it writes anything there: that
// Redis keeps what it acknowledges (decision 42), that this machine's clock
// is close enough to Redis's for the leases (decision 44), and that this
// node holds the vault key the other nodes of that Redis use (decision 43).

#include "adapters/redis/redis_connection.hpp"
#include "runtime/node_config.hpp"

namespace psp {

/// 0 when the node may start; else its exit code (3 Redis failed, 8 Redis
/// would lose acknowledged payments, 9 another vault key, 10 a clock too
/// far from Redis's), the reason on stderr.
int redis_start_checks(redis::connection& conn, const node_config& cfg);

} // namespace psp
