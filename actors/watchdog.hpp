#pragma once

// Ends the node when an actor it cannot do without goes down while it runs.
// Only payment actors are supervised (the router spawns them again); the
// queue, the notifier, the router itself and the ports (Redis store pools,
// stream reader, card network client, webhook sender) are spawned once, and
// one of them gone would leave a node that answers /healthz and processes
// nothing. Stopping instead hands its partitions to the peers at once, and
// whatever supervises the process starts it again.

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace psp {

/// What the watchdog does when `name` went down for `reason` (once: the
/// first one down; the node is stopping after that).
using on_actor_down = std::function<void(const std::string& name,
                                         const caf::error& reason)>;

/// Monitors each actor; calls `down` for the first that terminates. Stop the
/// watchdog first when the node stops on purpose.
caf::actor
spawn_watchdog(caf::actor_system& sys,
               std::vector<std::pair<std::string, caf::actor>> watched,
               on_actor_down down);

} // namespace psp
