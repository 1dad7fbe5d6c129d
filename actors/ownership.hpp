#pragma once

// Which node owns a payment: rendezvous (highest random weight) hashing over
// the live members. Every node computes the same owner from the same member
// list, and when a member leaves only its payments move.

#include <cstdint>
#include <string>
#include <vector>

namespace psp {

/// A stable 64-bit hash of `member` and `key` (same on every build and node).
uint64_t rendezvous_weight(const std::string& member, const std::string& key);

/// The index in `members` of the owner of `key`; -1 when `members` is empty.
int owner_index(const std::string& key, const std::vector<std::string>& members);

} // namespace psp
