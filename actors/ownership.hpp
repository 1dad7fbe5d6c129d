#pragma once

// Who processes a payment. The payment stream is cut into a fixed number of
// partitions (one Redis stream each); a payment's jobs always go to the
// partition of its intent id, and each partition is read by one live node,
// chosen by rendezvous (highest random weight) hashing over the members with
// a bound on how many partitions one node takes. Every node computes the same
// owners from the same member list, and when a member leaves mostly its own
// partitions move.

#include <cstdint>
#include <string>
#include <vector>

namespace psp {

/// Partitions of the payment stream. Fixed for a deployment: writers and
/// readers must agree, and an entry is acknowledged on the stream it was
/// written to (docs/decisions.md, 26). 12 splits evenly over 1, 2, 3, 4 and 6
/// nodes.
inline constexpr uint32_t payment_partitions = 12;

/// The partition of a payment: a polynomial hash of its intent id modulo a
/// prime below 2^31, so that Redis's Lua (doubles, exact to 2^53) computes the
/// same value (adapters/redis/lua_partition.hpp).
uint32_t payment_partition(const std::string& intent_id);

/// A stable 64-bit hash of `member` and `key` (same on every build and node).
uint64_t rendezvous_weight(const std::string& member, const std::string& key);

/// The index in `members` of the owner of `key`; -1 when `members` is empty.
int owner_index(const std::string& key, const std::vector<std::string>& members);

/// The index in `members` of each partition's owner (payment_partitions
/// entries; all -1 when `members` is empty). Rendezvous order per partition,
/// but every member takes floor(partitions / members) or one more, so three
/// nodes read four partitions each rather than whatever the hash hands them.
std::vector<int> partition_owners(const std::vector<std::string>& members);

/// Every partition, 0 .. payment_partitions - 1.
std::vector<uint32_t> all_partitions();

/// The partitions `self` reads under `members` (all of them when `members`
/// is empty: a node alone).
std::vector<uint32_t> owned_partitions(const std::string& self,
                                       const std::vector<std::string>& members);

} // namespace psp
