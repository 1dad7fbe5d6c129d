#pragma once

// One actor per payment intent: owns the attempt in progress, calls the card
// network, retries transient failures with backoff, commits the outcome in
// one atomic step, and passivates when idle (its state lives in Redis).

#include "actors/ports.hpp"

#include <caf/fwd.hpp>

#include <cstdint>

namespace psp {

/// Limits of the payment flow; every wait and retry is bounded.
struct payment_limits {
  uint32_t network_tries_max = 20;    ///< then dead letter (still processing)
  uint32_t commit_tries_max = 10;     ///< then leave the entry for reclaim
  uint32_t backoff_base_ms = 200;
  uint32_t backoff_max_ms = 30'000;
  uint32_t request_timeout_ms = 20'000;
  uint32_t idle_ms = 30'000;          ///< passivate after this long idle
  uint32_t queued_jobs_max = 16;      ///< other attempts waiting their turn
  uint32_t rng_seed = 0;              ///< 0: seeded from the clock
};

/// The ports a payment actor talks to. `dead_letter` and `notifier` are
/// dynamically typed actors of this folder (dead_letter.hpp,
/// notification_queue.hpp).
struct payment_ports {
  payment_store store;
  card_network network;
  caf::actor dead_letter;
  caf::actor notifier;  ///< may be invalid; poked after events were written
};

/// Spawns a payment actor for `intent_id`. It answers
/// `(process_atom, payment_job) -> bool` once the job's stream entry was
/// acknowledged (true) or left pending for a later redelivery (false).
caf::actor spawn_payment_actor(caf::actor_system& sys, std::string intent_id,
                               payment_ports ports, payment_limits limits);

} // namespace psp
