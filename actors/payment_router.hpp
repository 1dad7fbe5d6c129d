#pragma once

// Per node: finds or spawns the payment actor of an intent and forwards jobs
// to it. As the payment actors' supervisor it restarts them on demand (a
// crashed actor is spawned again, re-hydrating from Redis, when its job is
// redelivered) and enforces a restart-intensity limit: a payment whose actor
// keeps crashing is sent to the dead-letter actor instead of crashing forever.

#include "actors/payment_actor.hpp"

namespace psp {

struct supervisor_limits {
  uint32_t restarts_max = 3;        ///< crashes per payment within the window
  uint32_t window_ms = 60'000;
  uint32_t actors_max = 100'000;    ///< live payment actors on this node
};

/// Answers `(process_atom, payment_job) -> bool` (delegated to the payment
/// actor), `(stats_atom) -> uint64_t` (live payment actors) and
/// `(stats_atom, dead_atom) -> uint64_t` (payments whose recent crashes it
/// tracks for the restart intensity: none once they finish); takes
/// `(fence_atom, node id, registration)` to stamp on jobs from then on.
caf::actor spawn_payment_router(caf::actor_system& sys, payment_ports ports,
                                payment_limits limits,
                                supervisor_limits supervision);

} // namespace psp
