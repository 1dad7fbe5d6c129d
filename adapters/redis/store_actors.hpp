#pragma once

// Redis-backed implementations of the payment_store, payment_stream and
// delivery_store ports. Each is a pool of detached actors with one blocking
// connection each: many commits in flight at once let Redis group-commit the
// AOF fsync (appendfsync always).

#include "actors/ports.hpp"
#include "adapters/redis/delivery_counters.hpp"
#include "adapters/redis/redis_connection.hpp"

#include <caf/fwd.hpp>

#include <memory>

namespace psp::redis {

struct store_settings {
  endpoint where;
  uint32_t timeout_ms = 2'000;
  std::string consumer;            ///< this node's consumer name in the group
  uint32_t block_ms = 100;         ///< XREADGROUP BLOCK
  uint32_t reclaim_idle_ms = 30'000; ///< XAUTOCLAIM min idle time
  uint32_t delivery_lease_ms = 60'000;
  /// Counted as the delivery store records outcomes; may be null.
  std::shared_ptr<delivery_counters> deliveries;
  /// Queue each paid charge for the archive (archive_scripts.hpp): only
  /// when an archiver runs, or the queue would only grow.
  bool archive_paid = false;
};

payment_store spawn_payment_store(caf::actor_system& sys,
                                  const store_settings& cfg, size_t workers);

payment_stream spawn_payment_stream(caf::actor_system& sys,
                                    const store_settings& cfg);

delivery_store spawn_delivery_store(caf::actor_system& sys,
                                    const store_settings& cfg, size_t workers);

/// Creates the consumer group if missing. False with `err` when Redis is
/// unreachable or refuses.
bool ensure_stream_groups(connection& conn, std::string& err);

} // namespace psp::redis
