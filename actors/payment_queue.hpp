#pragma once

// Per node: the consumer of the payment stream. Reads jobs through the
// payment_stream port (its own pending entries after a restart, entries left
// idle by dead consumers, then new ones) and hands them to the payment
// router, keeping at most `in_flight_max` jobs in flight (backpressure).

#include "actors/ports.hpp"

namespace psp {

struct payment_queue_limits {
  uint32_t in_flight_max = 512;
  uint32_t batch_max = 128;           ///< jobs asked for per read
  uint32_t read_timeout_ms = 5'000;   ///< the port blocks for less than this
  uint32_t job_timeout_ms = 120'000;  ///< bound on one job's whole life
  uint32_t idle_retry_ms = 50;        ///< pause after a failed or full read
};

/// Starts reading at once. Answers `(stats_atom) -> uint64_t` (jobs in
/// flight); `(view_atom, cluster_view)` sets the live members: each job then
/// goes to its owner's router (rendezvous hashing), its own when alone.
caf::actor spawn_payment_queue(caf::actor_system& sys, payment_stream stream,
                               caf::actor router, payment_queue_limits limits);

} // namespace psp
