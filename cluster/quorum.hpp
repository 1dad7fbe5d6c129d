#pragma once

// The quorum rule that keeps the minority side of a network partition from
// taking payment work: a node cut off from its peers but not from Redis
// still heartbeats, so it stays registered while it can reach nobody. It
// must not then route every payment to itself. Pure function, no actors.

#include <chrono>
#include <cstddef>
#include <map>
#include <set>
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
/// members has the quorum; exactly half keeps it when it holds the smallest
/// registered id (so of two halves exactly one keeps working) and
/// `holds_now` (it had the quorum until now, or a moment ago: the
/// membership counts a loss of up to a heartbeat TTL ago): a tie never
/// grants it to a node that has not been working. A node
/// starting or rejoining would otherwise work at once through the tie, while
/// a peer that has not read its registration yet still counted itself a
/// majority (two nodes working, up to a heartbeat). Less than half never.
/// Ids in `reachable` that are not registered do not count.
quorum_decision decide_quorum(const std::string& self_id,
                              const std::vector<std::string>& registered,
                              const std::vector<std::string>& reachable,
                              bool holds_now = true);

/// The members a quorum is counted against: those registered, and for a
/// grace period those that vanished from the registry without leaving
/// (a graceful stop marks its leave). When Redis stalls for longer than
/// the heartbeat TTL every registration lapses at once, and the first node
/// to register again, perhaps one cut off from its peers, would otherwise
/// count itself alone and hold a majority of one. The grace runs from the
/// first registry read that misses a member, so a stall does not use it up.
class quorum_members {
public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit quorum_members(std::chrono::milliseconds grace) : grace_(grace) {}

  /// A registry read at `now`: `alive` registered, `left` gone on purpose.
  void observe(const std::set<std::string>& alive,
               const std::set<std::string>& left, time_point now);

  /// The registered members and those still in their grace period.
  std::vector<std::string> counted() const;

private:
  std::chrono::milliseconds grace_;
  std::set<std::string> alive_;
  std::map<std::string, time_point> absent_since_;
};

} // namespace psp
