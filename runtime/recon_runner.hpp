#pragma once

// One reconciliation run end to end: read the PSP side from Redis and the
// network's settlement report over the period widened by the grace window,
// match them (reconciliation.hpp), store the run and, when something
// differs, the operator event. Blocking; used by psp-admin, the admin API
// (on an HTTP handler thread) and the scheduler's own thread.

#include "adapters/redis/redis_connection.hpp"
#include "runtime/recon_json.hpp"
#include "runtime/redis_lease.hpp"
#include "runtime/report_failure.hpp"
#include "runtime/settlement_client.hpp"

#include <string>
#include <variant>

namespace psp::recon {

/// Default grace window: how far outside the period a counterpart may lie.
/// Five minutes covers the network call, the commit and a retry or two;
/// a payment committed later than that after its capture is worth a look.
inline constexpr int64_t default_grace_s = 300;

struct run_settings {
  settlement_settings network;
  int64_t grace_s = default_grace_s;
  std::string trigger = "cli"; ///< "schedule" | "admin_api" | "cli"
  std::string node = "psp-admin";
};

/// Runs and stores one reconciliation of `p`. With `lease` (scheduled
/// runs) the run is stored only while the lease is held and the period not
/// yet done (lease_lost otherwise).
std::variant<recon_run, report_failure>
run_reconciliation(redis::connection& conn, const run_settings& cfg,
                   const period& p,
                   const reports::redis_lease* lease = nullptr);

} // namespace psp::recon
