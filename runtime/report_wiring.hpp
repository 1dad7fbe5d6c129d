#pragma once

// Settings of the node's reconciliation and statements (the admin API's
// report service and the scheduler) derived from the node's config, kept
// here so node.cpp only wires.

#include "adapters/redis/redis_connection.hpp"
#include "runtime/node_config.hpp"
#include "runtime/recon_runner.hpp"
#include "runtime/recon_scheduler.hpp"

#include <string>

namespace psp {

/// Runs started by this node for `trigger` ("admin_api" | "schedule").
recon::run_settings report_settings(const node_config& cfg,
                                    const std::string& trigger);

scheduler_settings scheduler_settings_of(const node_config& cfg,
                                         const redis::endpoint& where);

} // namespace psp
