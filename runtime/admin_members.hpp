#pragma once

// psp-admin members and forget-node: the operator's view of the cluster's
// membership as Redis holds it, and the way to drop a node decommissioned
// for good (the scale audit: no command listed members, and every id ever
// used stayed in cluster:members and as a consumer of each payment stream
// group, read by every heartbeat).
//
// members: every id in cluster:members with its registration (address,
// epoch, milliseconds left), its leave mark, and the payment stream entries
// pending at its consumer, summed over the partitions. 0, 3 Redis
// unreachable.
//
// forget-node --node ID: only a node that is neither registered (stop it
// first) nor holds pending entries (the live nodes take them over; try
// again) is removed from cluster:members and from every group's consumers.
// 0 done, 1 refused (registered, pending entries), 2 usage or unknown id,
// 3 Redis unreachable.

#include "adapters/redis/redis_connection.hpp"

#include <map>
#include <string>

namespace psp::admin {

int members_command(redis::connection& conn);

int forget_node_command(redis::connection& conn,
                        const std::map<std::string, std::string>& opts);

} // namespace psp::admin
