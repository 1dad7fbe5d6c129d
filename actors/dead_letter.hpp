#pragma once

// Per node: records what kept failing in the dead-letter stream (through the
// payment store, which acknowledges the original entry in the same step) and
// counts it. Listing and replay go through the admin API.

#include "actors/ports.hpp"

namespace psp {

/// Answers `(dead_atom, dead_letter_record) -> bool` and
/// `(stats_atom) -> uint64_t` (records written by this node).
caf::actor spawn_dead_letter(caf::actor_system& sys, payment_store store);

} // namespace psp
