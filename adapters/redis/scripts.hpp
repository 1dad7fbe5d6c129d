#pragma once

// The Lua steps that make each state change atomic (a transactional outbox):
// status, ledger postings, events, webhook deliveries and the stream ack are
// written together or not at all. Every script validates before its first
// write, because Redis does not roll back a script that fails half-way.

#include "adapters/redis/redis_connection.hpp"

#include <string>
#include <vector>

namespace psp::redis {

struct script {
  const char* name;
  std::string source;
  std::string sha1_hex;
};

/// A script with its SHA-1 computed once (for EVALSHA).
script make_script(const char* name, std::string source);

/// Hosted page submission: open session + intent awaiting a card -> new
/// attempt, intent processing, job appended to the payment stream.
const script& confirm_attempt_script();
/// A new checkout session and its intent, written together (or the existing
/// session under a derived id), in one round trip.
const script& create_session_script();
/// A session and its intent in one round trip (the hosted page's reads).
const script& load_session_view_script();
/// A payment intent through the API, written only if its id is new.
const script& create_intent_script();
/// API confirm of a bare payment intent -> new attempt, job queued.
const script& confirm_intent_script();
/// Capture, void or refund request -> validated, recorded, job queued (a
/// refund also reserves its amount and emits refund.created).
const script& request_op_script();
/// Cancel of an intent that holds no funds -> canceled + event.
const script& cancel_intent_script();
/// Expire an open session -> expired, its intent canceled, event.
const script& expire_session_script();
/// A webhook endpoint under its id, unless an earlier run of the same
/// request wrote it (and perhaps it was deleted since); then the endpoint.
/// ARGV[2] caps the merchant's endpoints ('too_many' beyond it).
const script& create_endpoint_script();
/// Fields of the merchant's endpoint set, then the endpoint as it is.
const script& update_endpoint_script();
/// Final network answer -> status + ledger + events + deliveries + ack.
const script& commit_outcome_script();
/// Payment that exhausted its retries -> dead-letter stream + ack.
const script& bury_payment_script();
/// Moves a job of the pre-partition payment stream to its partition.
const script& move_legacy_job_script();
/// Due webhook deliveries, leased for a while.
const script& claim_deliveries_script();
/// Outcomes of delivery attempts, in one call: each done, rescheduled or
/// dead-lettered.
const script& record_deliveries_script();
/// A node's unrecorded claims -> due again now.
const script& release_deliveries_script();
/// Dead-letter entry -> back onto its queue.
const script& replay_dead_letter_script();
/// Dead-letter entry -> removed and kept in the stream of discards; a
/// payment step the network never answered only when forced
/// (dead_letter_scripts.cpp).
const script& discard_dead_letter_script();

/// Idempotency-Key: claim (or replay, or refuse) / store the answer /
/// release the claim of a request whose answer is not stored.
const script& idempotency_claim_script();
const script& idempotency_finish_script();
const script& idempotency_release_script();
/// Frees a claim whose request gave up before learning it landed.
const script& idempotency_abandon_script();

/// EVALSHA, falling back to EVAL when the server does not know the script
/// (after a restart or on a fresh server). A guarded script that meets an
/// archived object has it restored and runs again (at most three times:
/// an archiver may pack it again in between). nullopt: Redis failed.
std::optional<value> eval(connection& conn, const script& s,
                          const std::vector<std::string>& keys,
                          const std::vector<std::string>& args);

} // namespace psp::redis
