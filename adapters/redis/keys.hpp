#pragma once

// The Redis key schema in one place (docs/architecture.md explains it).

#include "actors/ownership.hpp"

#include <cstdint>
#include <string>

namespace psp::keys {

/// One stream per partition of the payment stream (actors/ownership.hpp):
/// `stream:payments:<n>`.
inline const std::string payment_stream_prefix = "stream:payments:";
inline std::string payment_stream(uint32_t partition) {
  return payment_stream_prefix + std::to_string(partition);
}
/// The stream a payment's jobs are written to and acknowledged on.
inline std::string payment_stream_for(const std::string& intent_id) {
  return payment_stream(payment_partition(intent_id));
}
inline const std::string payment_group = "payment-workers";
inline const std::string ledger_stream = "ledger:transactions";
inline const std::string balances = "ledger:balances";
inline const std::string deliveries_due = "webhooks:due";
/// Claimed deliveries not yet recorded -> the node that claimed them.
inline const std::string delivery_claims = "webhooks:claims";
inline const std::string dead_letter_stream = "stream:deadletter";
/// Dead letters an operator discarded, each with when and whether forced.
inline const std::string discarded_dead_letters = "stream:deadletter:discarded";
/// Open checkout sessions by expires_at (s), for the expiry sweep
/// (adapters/redis/session_expiry.hpp).
inline const std::string sessions_expiring = "sessions:expiring";

inline std::string merchant(const std::string& id) { return "merchant:" + id; }
/// A node's health probe write (expires by itself): whether Redis takes
/// writes, which PING cannot tell (out of memory, a read-only replica).
inline std::string health_probe(const std::string& node_id) {
  return "health:" + node_id;
}
inline std::string api_key(const std::string& hash_hex) {
  return "apikey:" + hash_hex;
}
inline std::string session(const std::string& id) { return "cs:" + id; }
inline std::string intent(const std::string& id) { return "pi:" + id; }
inline std::string attempt(const std::string& id) { return "pa:" + id; }
inline std::string event(const std::string& id) { return "evt:" + id; }
inline std::string refund(const std::string& id) { return "re:" + id; }
inline std::string balance_transaction(const std::string& id) {
  return "txn:" + id;
}
inline std::string endpoint(const std::string& id) { return "we:" + id; }
/// Marks a deleted endpoint for a day, so that a late run of the request
/// that created it does not bring it back (decision 46).
inline std::string endpoint_deleted(const std::string& id) {
  return "we:" + id + ":deleted";
}
inline std::string merchant_endpoints(const std::string& merchant_id) {
  return "merchant:" + merchant_id + ":endpoints";
}
inline std::string merchant_sessions(const std::string& merchant_id) {
  return "merchant:" + merchant_id + ":sessions";
}
inline std::string merchant_intents(const std::string& merchant_id) {
  return "merchant:" + merchant_id + ":intents";
}
inline std::string merchant_events(const std::string& merchant_id) {
  return "merchant:" + merchant_id + ":events";
}
inline std::string merchant_refunds(const std::string& merchant_id) {
  return "merchant:" + merchant_id + ":refunds";
}
inline std::string merchant_balance_transactions(
  const std::string& merchant_id) {
  return "merchant:" + merchant_id + ":balance_transactions";
}
/// Per-merchant mirror of its ledger accounts' balances (debit - credit).
inline std::string merchant_balances(const std::string& merchant_id) {
  return "merchant:" + merchant_id + ":balances";
}

/// Every merchant id (set), written by psp-admin create-merchant.
inline const std::string merchants = "merchants";
/// Bumped by every change to a merchant's keys or fees (psp-admin roll-key,
/// set-fees): a node that sees it move drops its cached merchants.
inline const std::string merchants_generation = "merchants:generation";

// Reconciliation and statements (docs/ledger.md).
/// Run ids scored by start time (ms).
inline const std::string recon_runs = "recon:runs";
/// The scheduler's lease: one node at a time (owner token, PX).
inline const std::string recon_lease = "recon:lease";
/// The first period the schedule considered (its `from`, Unix s).
inline const std::string recon_schedule_since = "recon:schedule:since";
/// Operator events (reconciliation.differences_found) scored by ms.
inline const std::string operator_events = "events:operator";
/// Differences an operator resolved: field "<kind>|<network line>|<psp
/// txn>|<side>" -> {"note","resolved_at","run","difference"} (JSON).
inline const std::string recon_resolutions = "recon:resolutions";
inline std::string recon_run(const std::string& id) {
  return "recon:run:" + id;
}
/// Marks an operator notice as told (value: its event id), so a condition
/// seen on every tick of every node raises one event: "failed:<from>:<to>",
/// "skipped:<from>", "statement:<merchant>:<from>".
inline std::string recon_notice(const std::string& what) {
  return "recon:notice:" + what;
}
/// Set once a scheduled period is reconciled (value: the run id).
inline std::string recon_period_done(int64_t from_s, int64_t to_s) {
  return "recon:period:" + std::to_string(from_s) + ":"
         + std::to_string(to_s);
}
/// A stored statement (JSON) of one merchant and period start.
inline std::string statement(const std::string& merchant_id, int64_t from_s) {
  return "statement:" + merchant_id + ":" + std::to_string(from_s);
}
/// Stored statements of a merchant: period start -> scored by it.
inline std::string merchant_statements(const std::string& merchant_id) {
  return "merchant:" + merchant_id + ":statements";
}

} // namespace psp::keys
