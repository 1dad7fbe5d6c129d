#pragma once

// Wires one PSP node: Redis-backed ports, the actors, the HTTP adapter.

#include "runtime/node_config.hpp"

namespace psp {

/// Runs the node until SIGTERM/SIGINT. Returns the process exit code:
/// 0 clean stop, 3 Redis unreachable, 4 HTTP port unavailable.
int run_node(node_config& cfg);

} // namespace psp
