#pragma once

// The vocabulary between actors and between nodes, in one file: the type-ID
// block, atoms and message structs with inspect(). Every struct here may
// cross a node boundary, so each is registered in the block below and has a
// serialization round-trip test (tests/actors/messages_test.cpp).

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/actor.hpp>
#include <caf/type_id.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace psp {

/// What a job asks of the card network. A charge authorises and captures in
/// one call; manual capture splits it into authorize, then capture or void.
enum class payment_op : uint8_t { charge, authorize, capture, void_auth, refund };

std::string to_string(payment_op x);

/// One step of a payment taken from the payment stream: a charge or
/// authorisation attempt, or a capture, void or refund of an earlier one.
struct payment_job {
  std::string entry_id;      ///< stream entry id, the ack handle
  std::string intent_id;
  std::string attempt_id;    ///< op id; also the network's idempotency key
  std::string merchant_id;
  std::string session_id;    ///< empty for a bare payment intent
  int64_t amount_minor = 0;
  std::string currency;
  int32_t fee_bps = 0;
  int64_t fee_fixed_minor = 0;
  std::string sealed_card;   ///< AES-GCM blob; only the card adapter opens it
  payment_op op = payment_op::charge;
  std::string network_ref;   ///< the network's charge id (capture/void/refund)
  int64_t held_minor = 0;    ///< capture/void: the authorised amount released
  uint32_t delivery_count = 1;
  /// Fencing: the processing node and its registration value, stamped by
  /// that node's router. The commit step refuses a job whose node no longer
  /// holds this registration (it was declared dead meanwhile).
  std::string fence_node;
  std::string fence_token;
  /// A hosted-page attempt's ordinal in its session (1 for the first card
  /// tried), counted in Redis by the confirm step; 0 for every other job.
  uint32_t page_ordinal = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, payment_job& x) {
  return f(caf::meta::type_name("payment_job"), x.entry_id, x.intent_id,
           x.attempt_id, x.merchant_id, x.session_id, x.amount_minor,
           x.currency, x.fee_bps, x.fee_fixed_minor, x.sealed_card, x.op,
           x.network_ref, x.held_minor, x.delivery_count, x.fence_node,
           x.fence_token, x.page_ordinal);
}

/// The card network's Idempotency-Key for a job's call. A hosted-page
/// attempt is named by its session and ordinal, so an attempt Redis lost
/// (a restore, a lagging replica) and the one that takes its place after
/// the loss send the same key: the network answers the charge it made
/// instead of making another (decision 70). Every other job's attempt or
/// op id already derives from what was asked (decision 61).
std::string network_idempotency_key(const payment_job& job);

/// What the card network said. Unknown outcomes (timeouts, 5xx) are
/// `transient`: never guessed, retried with the same idempotency key.
enum class charge_outcome : uint8_t { approved, declined, transient };

std::string to_string(charge_outcome x);

struct charge_request {
  std::string attempt_id;
  std::string idempotency_key; ///< sent to the network (see above)
  std::string intent_id;
  std::string merchant_id;
  int64_t amount_minor = 0;
  std::string currency;
  std::string sealed_card;  ///< charge and authorize only
  payment_op op = payment_op::charge;
  std::string network_ref;  ///< capture, void and refund: the network charge
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, charge_request& x) {
  return f(caf::meta::type_name("charge_request"), x.attempt_id,
           x.idempotency_key, x.intent_id, x.merchant_id, x.amount_minor,
           x.currency, x.sealed_card, x.op, x.network_ref);
}

struct charge_result {
  charge_outcome outcome = charge_outcome::transient;
  std::string charge_id;
  std::string decline_code;  ///< e.g. card_declined, insufficient_funds
  std::string message;       ///< shopper-safe text; never card data
  /// The network holds a request with other parameters under this key
  /// (decision 70). A card attempt is then declined
  /// (`duplicate_transaction`) and its checkout takes no other card; a
  /// follow-up (transient) goes to the dead-letter queue at once: asking
  /// again cannot change the answer.
  bool key_conflict = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, charge_result& x) {
  return f(caf::meta::type_name("charge_result"), x.outcome, x.charge_id,
           x.decline_code, x.message, x.key_conflict);
}

/// One leg of a double-entry ledger transaction.
struct ledger_posting {
  std::string account;
  int64_t debit_minor = 0;
  int64_t credit_minor = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ledger_posting& x) {
  return f(caf::meta::type_name("ledger_posting"), x.account, x.debit_minor,
           x.credit_minor);
}

/// An event to append in the same atomic step as the state change.
struct event_spec {
  std::string event_id;  ///< derived from the attempt id: stable on redelivery
  std::string type;      ///< e.g. payment_intent.succeeded
  std::string object;    ///< "payment_intent" or "checkout.session"
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_spec& x) {
  return f(caf::meta::type_name("event_spec"), x.event_id, x.type, x.object);
}

/// A field the commit step sets on one of the records it touches. `record`
/// is "intent", "op" (the attempt/operation record), "session" or "refund".
struct record_update {
  std::string record;
  std::string field;
  std::string value;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, record_update& x) {
  return f(caf::meta::type_name("record_update"), x.record, x.field, x.value);
}

/// An integer field of the intent moved by `delta_minor` (amount_refunded,
/// refund_pending): increments, so concurrent refunds cannot lose one.
struct intent_increment {
  std::string field;
  int64_t delta_minor = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, intent_increment& x) {
  return f(caf::meta::type_name("intent_increment"), x.field, x.delta_minor);
}

/// The merchant-facing balance transaction of a money movement (Stripe's
/// balance_transaction): type charge or refund; empty type when none.
struct balance_entry {
  std::string type;
  std::string source;       ///< charge id or refund id
  int64_t amount_minor = 0; ///< signed: a refund is negative
  int64_t fee_minor = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, balance_entry& x) {
  return f(caf::meta::type_name("balance_entry"), x.type, x.source,
           x.amount_minor, x.fee_minor);
}

/// Everything the one atomic commit step writes for a final network answer.
struct payment_commit {
  payment_job job;
  charge_result charge;
  int64_t fee_minor = 0;
  std::string transaction_id;           ///< empty when nothing is posted
  std::vector<ledger_posting> postings; ///< balanced, or empty on decline
  std::vector<event_spec> events;
  std::vector<record_update> updates;
  std::vector<intent_increment> increments;
  balance_entry balance;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, payment_commit& x) {
  return f(caf::meta::type_name("payment_commit"), x.job, x.charge,
           x.fee_minor, x.transaction_id, x.postings, x.events, x.updates,
           x.increments, x.balance);
}

/// Where a payment attempt stands in Redis (read on redelivery).
enum class attempt_status : uint8_t { pending, final, superseded, unknown };

std::string to_string(attempt_status x);

/// A record for the dead-letter stream.
struct dead_letter_record {
  std::string kind;       ///< "payment" or "webhook"
  std::string ref;        ///< attempt id or delivery id
  std::string entry_id;   ///< stream entry to ack (payments)
  std::string reason;
  std::string payload;    ///< what replay needs (opaque to actors)
  /// Payments: the burying node's registration and token, as on a commit:
  /// a node that lost the entry to another (it stalled past its
  /// registration) must not delete it under the new owner. "": unfenced.
  std::string fence_node;
  std::string fence_token;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dead_letter_record& x) {
  return f(caf::meta::type_name("dead_letter_record"), x.kind, x.ref,
           x.entry_id, x.reason, x.payload, x.fence_node, x.fence_token);
}

/// A webhook delivery claimed from the due set, with its rendered body.
struct webhook_delivery {
  std::string delivery_id;
  std::string event_id;
  std::string endpoint_id;
  std::string url;
  std::string secret;
  std::string body;
  uint32_t attempts_before = 0;  ///< failed attempts so far
  /// Unix ms the claim's lease ends: the claim's token, since a later claim
  /// of the same delivery (this one lapsed) sets a later lease.
  int64_t lease_until_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, webhook_delivery& x) {
  return f(caf::meta::type_name("webhook_delivery"), x.delivery_id,
           x.event_id, x.endpoint_id, x.url, x.secret, x.body,
           x.attempts_before, x.lease_until_ms);
}

/// The answer of one HTTP delivery attempt.
struct delivery_attempt {
  bool delivered = false;
  int32_t http_status = 0;  ///< 0 when no answer (timeout, refused)
  std::string error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delivery_attempt& x) {
  return f(caf::meta::type_name("delivery_attempt"), x.delivered,
           x.http_status, x.error);
}

/// What to record after an attempt: delivered, retry at a time, or dead.
struct delivery_report {
  std::string delivery_id;
  bool delivered = false;
  int64_t next_attempt_ms = -1;  ///< unix ms; -1 with !delivered = dead letter
  uint32_t attempts = 0;         ///< including this one
  std::string last_error;
  /// The claim this outcome comes from (webhook_delivery::lease_until_ms):
  /// a failure under a claim that lapsed and was taken again is not
  /// recorded, so the current claim's outcome counts.
  int64_t lease_until_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delivery_report& x) {
  return f(caf::meta::type_name("delivery_report"), x.delivery_id,
           x.delivered, x.next_attempt_ms, x.attempts, x.last_error,
           x.lease_until_ms);
}

/// A live cluster member as registered in Redis.
struct member_info {
  std::string node_id;
  std::string cluster_address;  ///< host:port of its published router
  /// Not registered: it stopped on purpose (SIGTERM), so its absence is
  /// no reason to doubt the quorum (cluster/quorum.hpp).
  bool left = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_info& x) {
  return f(caf::meta::type_name("member_info"), x.node_id, x.cluster_address,
           x.left);
}

/// Who is alive and where their payment routers are (node-local message).
struct cluster_view {
  std::string self_id;
  std::vector<std::string> node_ids;   ///< sorted, includes self
  std::vector<caf::actor> routers;     ///< same order; self's is local
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_view& x) {
  return f(caf::meta::type_name("cluster_view"), x.self_id, x.node_ids,
           x.routers);
}

} // namespace psp

CAF_BEGIN_TYPE_ID_BLOCK(psp, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(psp, (psp::payment_job))
  CAF_ADD_TYPE_ID(psp, (std::vector<psp::payment_job>))
  CAF_ADD_TYPE_ID(psp, (psp::charge_outcome))
  CAF_ADD_TYPE_ID(psp, (psp::charge_request))
  CAF_ADD_TYPE_ID(psp, (psp::charge_result))
  CAF_ADD_TYPE_ID(psp, (psp::ledger_posting))
  CAF_ADD_TYPE_ID(psp, (psp::event_spec))
  CAF_ADD_TYPE_ID(psp, (psp::payment_commit))
  CAF_ADD_TYPE_ID(psp, (psp::attempt_status))
  CAF_ADD_TYPE_ID(psp, (psp::dead_letter_record))
  CAF_ADD_TYPE_ID(psp, (psp::webhook_delivery))
  CAF_ADD_TYPE_ID(psp, (std::vector<psp::webhook_delivery>))
  CAF_ADD_TYPE_ID(psp, (psp::delivery_attempt))
  CAF_ADD_TYPE_ID(psp, (psp::delivery_report))
  CAF_ADD_TYPE_ID(psp, (psp::member_info))
  CAF_ADD_TYPE_ID(psp, (std::vector<psp::member_info>))
  CAF_ADD_TYPE_ID(psp, (psp::cluster_view))
  CAF_ADD_TYPE_ID(psp, (psp::payment_op))
  CAF_ADD_TYPE_ID(psp, (psp::record_update))
  CAF_ADD_TYPE_ID(psp, (psp::intent_increment))
  CAF_ADD_TYPE_ID(psp, (psp::balance_entry))
  CAF_ADD_TYPE_ID(psp, (std::vector<psp::delivery_report>))
CAF_END_TYPE_ID_BLOCK(psp)

// Atoms: at most 10 characters each.
CAF_ADD_ATOM(psp, psp, process_atom, "process")
CAF_ADD_ATOM(psp, psp, load_atom, "load")
CAF_ADD_ATOM(psp, psp, commit_atom, "commit")
CAF_ADD_ATOM(psp, psp, ack_atom, "ack")
CAF_ADD_ATOM(psp, psp, charge_atom, "charge")
CAF_ADD_ATOM(psp, psp, retry_atom, "retry")
CAF_ADD_ATOM(psp, psp, passivate_atom, "passivate")
CAF_ADD_ATOM(psp, psp, read_atom, "read")
CAF_ADD_ATOM(psp, psp, claim_atom, "claim")
CAF_ADD_ATOM(psp, psp, record_atom, "record")
CAF_ADD_ATOM(psp, psp, release_atom, "release")
CAF_ADD_ATOM(psp, psp, send_atom, "send")
CAF_ADD_ATOM(psp, psp, poll_atom, "poll")
CAF_ADD_ATOM(psp, psp, dead_atom, "dead")
CAF_ADD_ATOM(psp, psp, stats_atom, "stats")
CAF_ADD_ATOM(psp, psp, join_atom, "join")
CAF_ADD_ATOM(psp, psp, beat_atom, "beat")
CAF_ADD_ATOM(psp, psp, members_atom, "members")
CAF_ADD_ATOM(psp, psp, view_atom, "view")
CAF_ADD_ATOM(psp, psp, fence_atom, "fence")
CAF_ADD_ATOM(psp, psp, linked_atom, "linked")
