#pragma once

// The quorum rule that keeps the minority side of a network partition from
// taking payment work: a node cut off from its peers but not from Redis
// still heartbeats, so it stays registered while it can reach nobody. It
// must not then route every payment to itself. Pure function, no actors.

#include <cstddef>
#include <string>
#include <vector>

namespace psp {

/// What a node concluded about its side of the cluster.
struct quorum_decision {
  bool has_quorum = true;
  size_t reachable = 0;   ///< registered members we reach, ourselves included
  size_t registered = 0;  ///< registered members, ourselves included
};

/// `registered`: node ids registered in Redis; `reachable`: ids we hold a
/// live connection to. We always count ourselves in both (our registration
/// may be between expiry and rejoin). A strict majority of the registered
/// members has the quorum; exactly half has it when it holds the smallest
/// registered id (so of two halves exactly one keeps working); less than
/// half never. Ids in `reachable` that are not registered do not count.
quorum_decision decide_quorum(const std::string& self_id,
                              const std::vector<std::string>& registered,
                              const std::vector<std::string>& reachable);

} // namespace psp
