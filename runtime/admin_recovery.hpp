#pragma once

// psp-admin end-reopened-sessions --run RECON_ID: after Redis went back in
// time (a restore of an older backup, decision 62), the checkouts paid
// since the backup are open again in the restored data, and a shopper who
// comes back pays a second time (the re-test did). The reconciliation run
// over those periods names each such payment as `missing_at_psp` (the
// network charged it, Redis has no booking); this ends the still-open
// checkout of each, as an expiry would (one Lua step an intent reads its
// session and puts the session's expires_at and its place in
// sessions:expiring a second in the past: the page then says it expired
// and the nodes' sweep expires it with its event). Run it
// before the nodes serve again (docs/faults.md, "Redis lost data"). Prints
// {"ended": [...], "not_open": [...], "no_session": [...]}.
// 0 done, 2 usage or no such run, 3 Redis unreachable.

#include "adapters/redis/redis_connection.hpp"

#include <map>
#include <string>

namespace psp::admin {

int end_reopened_sessions_command(
  redis::connection& conn, const std::map<std::string, std::string>& opts);

// psp-admin accept-redis-state --reason TEXT: the last step after Redis
// lost data (decision 67). A node that starts keeps refusing a Redis that
// went back behind the mark on its disk, was emptied or holds another
// data set, until an operator who checked it (and ended what the loss
// reopened) says this data set is the one: a new epoch in one Lua step,
// recorded in psp:redis_recovery with the epoch it replaces, Redis's time,
// `by` and the reason. Nodes that start then adopt it; nodes still running
// see another epoch and keep refusing until restarted. Prints
// {"epoch": ..., "previous_epoch": ... or null}.
// 0 done, 2 usage, 3 Redis unreachable.
int accept_redis_state_command(
  redis::connection& conn, const std::map<std::string, std::string>& opts,
  const std::string& by);

} // namespace psp::admin
