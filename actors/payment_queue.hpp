#pragma once

// Per node: the consumer of the payment stream partitions this node owns
// (actors/ownership.hpp). Reads jobs through the payment_stream port (its own
// pending entries after a restart, entries left idle by dead consumers, then
// new ones) and hands them to the payment router, keeping about
// `in_flight_max` jobs in flight (backpressure). A job read just before a
// view change may belong to another node's partition by then: it is
// forwarded to that owner's router over CAF.
// While this node is on the minority side of a partition (no quorum, see
// cluster/quorum.hpp) it reads nothing and takes nothing over; the jobs it
// already holds still finish.

#include "actors/ports.hpp"

#include <caf/atom.hpp>

namespace psp {

/// `(quorum_atom, bool)`: whether this node may take payment work (true: it
/// is in the majority, or alone). Node-local, from the membership actor to
/// the queue; built-in types only, so it needs no type ID.
using quorum_atom = caf::atom_constant<caf::atom("quorum")>;

struct payment_queue_limits {
  uint32_t in_flight_max = 512;
  uint32_t batch_max = 128;           ///< jobs asked for per read
  uint32_t read_timeout_ms = 5'000;   ///< the port blocks for less than this
  uint32_t job_timeout_ms = 120'000;  ///< bound on one job's whole life
  uint32_t idle_retry_ms = 50;        ///< pause after a failed or full read
  /// A departed member's entries are claimed this long after it left the
  /// view, if it is still gone and we still have the quorum: a node cut off
  /// from all its peers loses them one down message at a time and must not
  /// take over from the first while it still sees the second.
  uint32_t take_over_delay_ms = 250;
  /// In a cluster: read nothing until the membership says this node holds
  /// the quorum, which it can only after registering. Before, a node
  /// refused later for a duplicate id, or one waiting out its own killed
  /// registration, read entries under a consumer name that is not its own
  /// to commit, unfenced (the scale audit).
  bool wait_for_quorum = false;
};

/// Starts reading at once. Answers `(stats_atom) -> uint64_t` (jobs in
/// flight); `(view_atom, cluster_view)` sets the live members, and with them
/// the partitions this node reads (all of them when alone);
/// `(quorum_atom, bool)` stops (false) or resumes (true) reading and the
/// take-over of departed members' entries.
caf::actor spawn_payment_queue(caf::actor_system& sys, payment_stream stream,
                               caf::actor router, payment_queue_limits limits);

} // namespace psp
