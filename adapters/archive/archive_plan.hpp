#pragma once

// Which of a payment's (a refund's, an expired session's) objects the
// archive takes, and
// whether they may be archived now. Pure: the archiver
// (adapters/redis/archive_store.cpp) reads the objects atomically, asks
// here, and writes only if nothing changed since that read.

#include "adapters/archive/archive_codec.hpp"

#include <optional>
#include <string>
#include <vector>

namespace psp::archive {

/// What the intent says about its objects (HMGET of these fields).
struct intent_refs {
  std::string status;
  std::string attempt;
  std::string session;        ///< "" for an intent made through the API
  std::string latest_charge;
  std::string capture_method; ///< "manual" or automatic
};
inline const std::vector<std::string> intent_ref_fields{
  "status", "attempt", "session", "latest_charge", "capture_method"};

/// The Redis keys of a paid charge's objects, the intent first: intent,
/// attempt, session (if any), its two events, balance transaction, charge
/// index; for manual capture also the authorisation's event (A), while the
/// capture or void that finished it is an op of its own. nullopt when the
/// intent is not a paid charge, or a manual one captured or canceled
/// (nothing to take).
std::optional<std::vector<std::string>>
payment_keys(const std::string& intent_id, const intent_refs& refs);

/// The Redis keys of an intent canceled through the API before any charge
/// (no session, no latest charge): the intent, its payment_intent.canceled
/// (named after the intent, so it names the archive). nullopt otherwise.
std::optional<std::vector<std::string>>
canceled_intent_keys(const std::string& intent_id, const intent_refs& refs);

/// A refund is archived on its own, apart from its payment: its objects all
/// carry the refund's random part, so they name its archive, and a later
/// refund of the same payment never changes them.
bool is_refund_id(const std::string& id);

/// The Redis keys of a refund's objects, the refund first: refund, op
/// record, balance transaction, and its events (refund.created,
/// refund.updated or refund.failed, charge.refunded). nullopt for an id that
/// is not a refund's.
std::optional<std::vector<std::string>>
refund_keys(const std::string& refund_id);

/// An expired checkout session is archived too (with its canceled intent
/// and its two events), once the sweep or the expire
/// endpoint closed it (adapters/redis/session_expiry.hpp).
bool is_session_id(const std::string& id);

/// The Redis keys of an expired session's objects: session, its expiry
/// event (named after the session, so it names the archive: the second key
/// names it, as the attempt does a payment's), its intent's
/// payment_intent.canceled (absent for sessions expired before it was
/// emitted), intent. nullopt when the id cannot name an archive.
std::optional<std::vector<std::string>>
session_keys(const std::string& session_id, const std::string& intent_id);

/// A finished op is archived on its own, like a refund: a declined card
/// attempt (`pa_`), a capture (`cap_`) or a void (`void_`) of a
/// manual-capture payment. Its op record, its events and its balance
/// transaction carry the op's random part, and nothing changes them once
/// it finished.
bool is_op_id(const std::string& id);

/// The Redis keys an op's objects may have: op record, then the events a
/// decline (F), a capture (S) or a void (X) emits, and a capture's balance
/// transaction; the ones an op did not write do not exist. nullopt when
/// the id cannot name an archive.
std::optional<std::vector<std::string>> op_keys(const std::string& op_id);

enum class readiness {
  ready,
  /// A webhook of its events is still pending: ask again later.
  later,
  /// Not finished (a refund or capture pending, manual capture, an object
  /// missing): it stays as it is; what finishes it queues it again.
  never,
};

/// `objects` as read for `keys` (payment_keys of the intent; an object that
/// does not exist has no fields). Ready: a paid charge with no refund or op
/// pending (refunded in part or in full is fine: the refunds are archived
/// apart); with manual capture, an authorisation that was captured or
/// canceled (voided, or gone at the network); or an intent canceled before
/// any charge (`keys` from canceled_intent_keys). Never when the intent as
/// read names other objects than `keys`.
readiness judge(const std::string& intent_id,
                const std::vector<std::string>& keys,
                const std::vector<stored_object>& objects);

/// The webhook deliveries of these objects' events that are not final yet,
/// by their ids `<event id>:<endpoint id>` (as webhooks:due names them).
std::vector<std::string>
pending_deliveries(const std::vector<stored_object>& objects);

/// The same for a refund (`keys` from refund_keys): ready once it succeeded
/// or failed and its op record is finished.
readiness judge_refund(const std::string& refund_id,
                       const std::vector<std::string>& keys,
                       const std::vector<stored_object>& objects);

/// The same for a session (`keys` from session_keys): ready once expired
/// with its intent canceled (a declined attempt it saw is archived apart).
readiness judge_session(const std::string& session_id,
                        const std::vector<std::string>& keys,
                        const std::vector<stored_object>& objects);

/// The same for an op (`keys` from op_keys): ready once a charge or
/// authorisation attempt failed (declined), or a capture or void finished
/// either way, and its job is gone.
readiness judge_op(const std::string& op_id,
                   const std::vector<std::string>& keys,
                   const std::vector<stored_object>& objects);

/// The merchant an archive unit belongs to: the first of its objects that
/// names one (a declined attempt's op record does not, its event does);
/// nullptr when none does.
const std::string* merchant_of(const std::vector<stored_object>& objects);

} // namespace psp::archive
