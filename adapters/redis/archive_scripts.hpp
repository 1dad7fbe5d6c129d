#pragma once

// The archive of finished payments in Redis (docs/decisions.md 38). A paid
// checkout whose webhooks are all final is packed, some time after it
// finished, from its seven hashes (intent, session, attempt, two events,
// balance transaction, charge index) into one compressed string
// `arc:<archive id>`; its intent, session and charge ids point there from
// bucketed hashes `arx:<bucket>`. A finished refund is packed on its own
// (refund, op record, balance transaction, events: all named by the
// refund's random part, so no pointers). Reads unpack it
// (archive_store.hpp); any script that would change an archived object
// first has it restored: archive_guard raises `ARCHIVED <arc key>` and
// eval() restores and runs the script again.

#include "adapters/redis/scripts.hpp"

namespace psp::redis {

/// Lua prepended to scripts that may meet an archived object: defines
///   archive_of(key)     -> the arc key holding it, or nil
///   archive_guard(key)  -> raises ARCHIVED when key is missing but archived
extern const char* const archive_guard_lua;

/// The list of finished payments and refunds waiting to be archived:
/// `<ms>|<intent or refund id>`, the oldest at the tail.
inline const std::string archive_due_key = "archive:due";
/// Entries a pass took and has not finished: `<taken ms>|<ms>|<id>`.
inline const std::string archive_taking_key = "archive:taking";
/// Payments and refunds to ask about again later (a webhook of theirs still
/// being tried): id -> when, in ms. A sorted set, not the queue: "when" may
/// be hours ahead (the delivery's next try), and the queue is taken in order.
inline const std::string archive_later_key = "archive:later";

/// KEYS: archive:due, archive:taking, archive:later. ARGV: now_ms,
/// after_ms, max, stale_ms. First moves up to max ids whose time has come
/// from archive:later to the old end of archive:due, puts entries taken
/// more than stale_ms ago back (their pass died), then moves up to max
/// entries due (finished at least after_ms ago) from the tail of
/// archive:due to archive:taking; answers those `<taken ms>|<ms>|<id>`
/// values.
const script& archive_take_script();
/// ARGV: now_ms, then per payment: archive id, blob, key count n, n keys.
/// Run inside MULTI after WATCH of the keys: writes each archive whose id
/// and pointers are free, and deletes the hashes. Answers how many.
const script& archive_commit_script();
/// KEYS: arc:dicts (merchant -> `<dictionary id>|<payments it is made
/// of>`), arc:dict:next. ARGV: merchant, a dictionary, how many payments it
/// is made of. Stores it as the merchant's unless the current one is made of
/// as many; answers {id, bytes, payments it is made of} of the one to use
/// (`arc:dict:<id>`, never changed once stored: older archives keep
/// theirs).
const script& archive_dictionary_script();
/// KEYS: arc key. ARGV: the blob as read, now_ms, then per object: key,
/// 2n, n field/value pairs. Puts the hashes back unless the archive changed
/// meanwhile (answers 0 then); the payment (or refund) is queued to be
/// archived again.
const script& archive_restore_script();

} // namespace psp::redis
