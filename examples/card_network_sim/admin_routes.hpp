#pragma once

// The /admin and /healthz routes: fault knobs, settlement faults,
// reconciliation reads, stats and reset. None of them is subject to faults.

namespace httplib {
class Server;
} // namespace httplib

namespace psp::sim {

struct sim_components;

/// Registers the admin routes.
void install_admin_routes(httplib::Server& server, sim_components& sim);

} // namespace psp::sim
