#pragma once

// Per node: keeps this node registered in Redis (heartbeats with a TTL),
// learns the live members from there, connects to their published payment
// routers through CAF's middleman (BASP), and tells the payment queue the
// view. A member leaves the view when its registration expires (a paused or
// hung node, within the TTL) or at once when its connection drops (a killed
// node). A node whose own registration expired joins again under a new
// epoch and fences everything it started before (see the commit step).
// A node that reaches at most half of the registered members (a partition
// that left it in the minority, see quorum.hpp) tells the payment queue to
// stop taking work until it is back in a majority.

#include "actors/ports.hpp"
#include "cluster/peer_routes.hpp"

#include <caf/fwd.hpp>

#include <cstdint>
#include <string>

namespace psp {

struct membership_settings {
  std::string node_id;
  std::string cluster_address;          ///< host:port of our published router
  uint32_t heartbeat_interval_ms = 500;
  uint32_t request_timeout_ms = 2'000;
  uint32_t reconnect_delay_ms = 1'000;  ///< after a failed connection
  /// How long a member that vanished from the registry without leaving
  /// still counts for the quorum: the registration TTL (a live member
  /// registers again well within it after a Redis stall).
  uint32_t absent_grace_ms = 2'500;
  /// Peer id -> address to dial instead of the registered one (a proxy).
  peer_routes routes;
};

/// `registration` is the value of our first join. Answers
/// `(members_atom) -> std::vector<std::string>` (the current view's ids)
/// and `(quorum_atom) -> bool` (whether this node holds the quorum, so
/// takes payment work). Sends `notifier` (if any) `(quorum_atom, false)`
/// at once (registered: it may start) and `(release_atom, id)` for each
/// member that left the view, once this node holds the majority.
caf::actor spawn_membership(caf::actor_system& sys, membership_settings cfg,
                            cluster_registry registry, caf::actor router,
                            caf::actor queue, std::string registration,
                            caf::actor notifier = {});

} // namespace psp
