#pragma once

// Checkout sessions that pass their expires_at are expired by a sweep, as
// Stripe does: status expired, the intent canceled, checkout.session.expired
// emitted with its webhooks (docs/decisions.md 39). Every open session is
// in `sessions:expiring` (created → expires_at, s); a completed one leaves
// it in the commit step. Blocking: for plain threads only.

#include "adapters/redis/redis_connection.hpp"

#include <cstddef>
#include <cstdint>

namespace psp::redis {

/// A session whose payment is in flight at its expiry is asked about again
/// this much later: the payment decides it first.
inline constexpr int64_t expiry_busy_retry_s = 30;

/// Sessions one sweep step looks at at most (one Lua step: short, because
/// it holds Redis while it runs).
inline constexpr size_t expiry_batch = 100;

struct expiry_sweep {
  /// Entries of `sessions:expiring` that were due.
  size_t due = 0;
  /// Sessions expired by this step.
  size_t expired = 0;
  /// Expired sessions (this step's, or expired through the API earlier)
  /// queued for the archive.
  size_t queued = 0;
  bool failed = false;
};

/// One Lua step: expires up to `max` sessions whose expires_at is at or
/// before `now_ms`, each at most once however many nodes sweep at a time.
/// With `queue_for_archive`, each expired session leaves through
/// `archive:due`, as a paid charge does.
expiry_sweep expire_due_sessions(connection& conn, int64_t now_ms, size_t max,
                                 bool queue_for_archive);

struct expiry_backfill {
  /// Session hashes looked at, and open ones put into the set.
  size_t seen = 0;
  size_t added = 0;
  bool failed = false;
};

/// For a Redis written by a release before the sweep: puts every open
/// session into `sessions:expiring` (SCAN over `cs:*`, in batches; an entry
/// already there is left as it is). Safe while nodes run: a session that
/// closes meanwhile only costs the sweep one look. psp-admin backfill-expiry.
expiry_backfill backfill_session_expiry(connection& conn);

} // namespace psp::redis
