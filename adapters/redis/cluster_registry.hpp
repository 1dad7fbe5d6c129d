#pragma once

// The cluster_registry port on Redis: `cluster:node:<id>` holds
// "<token>|<epoch>|<address>" with a TTL refreshed by heartbeats; the
// epoch comes from one counter, so every (re)registration is a new fencing
// token. A registration held by another live process is refused.

#include "actors/ports.hpp"
#include "adapters/redis/redis_connection.hpp"

#include <caf/fwd.hpp>

#include <optional>
#include <string>

namespace psp::redis {

struct registry_settings {
  endpoint where;
  uint32_t timeout_ms = 2'000;
  uint32_t ttl_ms = 2'500;  ///< a node missing beats this long is dead
};

cluster_registry spawn_cluster_registry(caf::actor_system& sys,
                                        const registry_settings& cfg);

/// The set of every node id that ever registered (psp-admin members lists
/// it, forget-node removes one).
inline const std::string cluster_members_key = "cluster:members";

/// The Redis key of a node's registration (the commit step checks it).
std::string node_registration_key(const std::string& node_id);

/// The mark a node leaves when it stops on purpose (`cluster:left:<id>`):
/// the members list reports it `left` until the node joins again.
std::string node_left_key(const std::string& node_id);

/// How long a leave mark lasts: longer than any peer's absence grace.
inline constexpr uint32_t left_mark_ttl_ms = 60'000;

/// The process token a registration value ("<token>|<epoch>|<address>")
/// names.
std::string registration_token(const std::string& registration);

/// Removes `node_id`'s registration and leaves its leave mark, if the
/// registration is still this process's (`token`): a process whose id was
/// taken meanwhile must not unregister the one that took it. nullopt when
/// Redis failed, else whether it was ours.
std::optional<bool> leave(connection& conn, const std::string& node_id,
                          const std::string& token);

} // namespace psp::redis
