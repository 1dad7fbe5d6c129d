#pragma once

// Per node: takes due webhook deliveries from the delivery store (a durable
// schedule in Redis, written by the payment commit step), hands them to the
// webhook senders and records each outcome: delivered, retried at the next
// time of the schedule, or dead-lettered after the last try.

#include "actors/ports.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace psp {

struct notification_limits {
  uint32_t in_flight_max = 256;
  uint32_t poll_interval_ms = 250;    ///< also woken by (poll_atom)
  uint32_t request_timeout_ms = 30'000; ///< calls to the delivery store
  /// A send: the sender's wait for a connection plus the endpoint's own
  /// timeout, and a margin. Shorter, a delivery that waited long was cut
  /// off while the endpoint was still answering, and sent again.
  uint32_t send_timeout_ms = 30'000;
  /// How long outcomes whose recording failed are retried before their
  /// claims are left to expire; keep it under the claim lease.
  uint32_t record_retry_window_ms = 30'000;
  std::vector<int64_t> schedule_ms;   ///< delays between tries
  /// In a cluster: claim and release nothing until the membership's first
  /// `(quorum_atom, bool)`, sent once this node registered. A node refused
  /// for a duplicate id released the live node's claims (same id) and
  /// claimed deliveries under it (the scale audit).
  bool wait_for_registration = false;
};

/// Answers `(poll_atom)` (check for due deliveries now), `(release_atom,
/// node)` (free the deliveries a departed node claimed) and `(stats_atom)
/// -> uint64_t` (deliveries in flight). At start (with
/// wait_for_registration, at the first `(quorum_atom, bool)`) it frees the
/// claims left by this node's previous life (`node_id`). `now_ms` supplies wall clock time
/// (unix ms), replaceable in tests.
caf::actor spawn_notification_queue(caf::actor_system& sys,
                                    delivery_store store,
                                    webhook_sender sender,
                                    notification_limits limits,
                                    std::string node_id,
                                    int64_t (*now_ms)());

} // namespace psp
