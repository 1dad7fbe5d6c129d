#pragma once

// The typed interfaces (ports) through which actors reach the outside world.
// Adapters implement them against Redis and HTTP; tests implement them with
// in-memory fakes. Operational failures come back as caf::error; business
// outcomes (a decline, an already-final attempt) are values.

#include "actors/messages.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

namespace psp {

/// Durable payment state: the atomic commit step and the payment stream's
/// acknowledgements.
using payment_store = caf::typed_actor<
  // Where does this attempt stand? (intent id, attempt id)
  caf::replies_to<load_atom, std::string, std::string>::with<attempt_status>,
  // Status + ledger + events + stream ack, all or nothing. Answers true when
  // this call wrote it, false when the attempt was already final.
  caf::replies_to<commit_atom, payment_commit>::with<bool>,
  // Acknowledge a stream entry whose work is already done (intent id, entry
  // id: the intent names the partition the entry is on).
  caf::replies_to<ack_atom, std::string, std::string>::with<bool>,
  // Record in the dead-letter stream and acknowledge the entry.
  caf::replies_to<dead_atom, dead_letter_record>::with<bool>>;

/// The payment stream's consumer-group reader, over the partitions named in
/// each request (actors/ownership.hpp). `(read_atom, n, partitions)` answers
/// up to about `n` jobs: this consumer's own pending entries first after a
/// start (in every partition), then entries idle too long at other consumers,
/// then new ones (blocking for a short, bounded time).
/// `(claim_atom, consumer, n, partitions)` takes over up to `n` entries
/// pending at a consumer that left the cluster (failover without waiting for
/// idleness).
using payment_stream = caf::typed_actor<
  caf::replies_to<read_atom, uint32_t, std::vector<uint32_t>>::with<
    std::vector<payment_job>>,
  caf::replies_to<claim_atom, std::string, uint32_t,
                  std::vector<uint32_t>>::with<std::vector<payment_job>>>;

/// The card network: authorize + capture with the attempt id as the
/// network's idempotency key.
using card_network = caf::typed_actor<
  caf::replies_to<charge_atom, charge_request>::with<charge_result>>;

/// Webhook deliveries that are due, and what became of them.
using delivery_store = caf::typed_actor<
  caf::replies_to<claim_atom, uint32_t>::with<std::vector<webhook_delivery>>,
  // Outcomes recorded in one round trip (a batch gathered while the
  // previous batch was being written).
  caf::replies_to<record_atom, std::vector<delivery_report>>::with<bool>,
  // A node's claims it will never record (it died or restarted) are due
  // again now; answers how many.
  caf::replies_to<release_atom, std::string>::with<uint64_t>>;

/// Cluster membership in Redis: register with a heartbeat TTL (answers the
/// registration value, which doubles as the fencing token), keep it alive
/// (false: it expired, the node was declared dead and must join again), and
/// list the live members.
using cluster_registry = caf::typed_actor<
  caf::replies_to<join_atom, std::string, std::string>::with<std::string>,
  caf::replies_to<beat_atom, std::string, std::string>::with<bool>,
  caf::replies_to<members_atom>::with<std::vector<member_info>>>;

/// Signs and POSTs one webhook delivery.
using webhook_sender = caf::typed_actor<
  caf::replies_to<send_atom, webhook_delivery>::with<delivery_attempt>>;

} // namespace psp
