#pragma once

// Whether Redis still holds what a running node saw it acknowledge. One
// Redis is the whole durable state (design rule 1), so a Redis emptied
// (FLUSHALL, a new empty instance at the same address), restored from an
// older backup, or failed over to a replica that lagged answers every
// command as before while payments, sessions and Idempotency-Keys it had
// acknowledged are gone: a session paid since the backup shows its form
// again, an emptied Redis answers every merchant 401. Nothing in a single
// reply shows it; two markers do (decision 62):
//   - an epoch: a random id stored once, the first time a node uses this
//     Redis; gone or different means another data set;
//   - a sequence every node increments each second and remembers: a value
//     not above the last one this node was given means Redis went back in
//     time (the sequence only grows in a Redis that loses nothing).
// A node keeps the last mark on its own disk too, so that one starting
// again tells a Redis that lost data while it was down (decision 67); an
// operator who checked such a Redis accepts it with a new epoch
// (`psp-admin accept-redis-state`), recorded in psp:redis_recovery.

#include "adapters/redis/redis_connection.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace psp::redis {

inline const std::string redis_epoch_key = "psp:redis_epoch";
inline const std::string redis_sequence_key = "psp:redis_sequence";
/// Hash: the first loss a node found (reason, node, at): every node that
/// starts or looks refuses the data set until an operator accepts it, so
/// nothing that goes on incrementing the sequence (a node under warn, one
/// with a new data dir) carries it back over a mark (decision 67).
inline const std::string redis_loss_key = "psp:redis_state_lost";
/// Hash: the epoch an operator accepted after a loss, the one it replaced,
/// when, who and why (decision 67).
inline const std::string redis_recovery_key = "psp:redis_recovery";

/// What one look at the markers found.
struct continuity_mark {
  std::optional<std::string> epoch; ///< nullopt: the key is gone
  int64_t sequence = 0;             ///< after this look's increment
  int64_t redis_time_us = 0;        ///< Redis's TIME during the look
  /// The reason a node recorded a loss of this data set ("" for none).
  std::string recorded_loss{};
};

enum class continuity_verdict {
  kept,        ///< same epoch, the sequence moved on
  emptied,     ///< the epoch is gone: the data set was emptied or replaced
  replaced,    ///< another epoch: another data set at this address
  rolled_back, ///< same epoch, the sequence went back: writes were lost
  accepted,    ///< another epoch, which an operator accepted after a loss
  loss_recorded, ///< a node found this data set lost data (any node, ever,
                 ///< until an operator accepted it)
};

/// Stores a new epoch (`new_epoch`) unless one is stored, then reads it and
/// increments the sequence, in one step: the mark a node starts from. With
/// a loss recorded it writes nothing and answers the markers as they are,
/// with the loss. nullopt when Redis does not answer (last_error() says
/// why).
std::optional<continuity_mark> adopt_continuity(connection& conn,
                                                const std::string& new_epoch);

/// Reads the epoch and, when it is there and no loss is recorded,
/// increments the sequence; never creates either (an emptied Redis stays
/// visibly empty).
std::optional<continuity_mark> look_at_continuity(connection& conn);

/// Redis's clock as the node follows it (actors/clock.hpp, decision 63):
/// the new Redis-minus-monotonic offset (µs) from one look sent at
/// `sent_us` and answered at `answered_us` on the monotonic clock, Redis
/// having said `redis_time_us`; nullopt to keep `current_us` (0: none yet)
/// when the round trip was too slow to trust (over 10 ms: the offset is
/// uncertain by half of it) or the offset moved less than a millisecond
/// (the monotonic clock's drift, corrected once it adds up, rather than a
/// small step back in time at every look).
std::optional<int64_t> follow_redis_clock(int64_t current_us, int64_t sent_us,
                                          int64_t answered_us,
                                          int64_t redis_time_us);

/// What psp-admin accept-redis-state stored (psp:redis_recovery): the
/// epoch it made and Redis's time then.
struct continuity_acceptance {
  std::string epoch; ///< "" when no acceptance is stored
  int64_t accepted_at_us = 0;
};

/// What a node that starts reads before it judges (decision 67): the
/// markers without incrementing anything (a refused start must leave the
/// sequence where the loss put it, or enough restarts would climb back
/// over the kept mark), and the acceptance. nullopt when Redis does not
/// answer.
struct continuity_reading {
  continuity_mark mark; ///< its sequence as stored, not incremented
  continuity_acceptance acceptance;
};
std::optional<continuity_reading> read_continuity(connection& conn);

/// Records that this data set lost data (`reason`, found by `node` while
/// Redis held `epoch_seen`, "" for none) unless a loss is recorded already
/// or the epoch changed since (an operator accepted the data set). A node
/// that refuses records it again each second, so a hand-deleted record
/// does not let the others adopt the loss. False when Redis does not
/// answer.
/// Another epoch that an operator accepted (psp:redis_recovery) is not
/// recorded: the node that ran through the acceptance refuses until
/// restarted, but must not lock out the nodes that restart (the third
/// re-test had to accept twice).
bool record_loss(connection& conn, const std::string& reason,
                 const std::string& node, const std::string& epoch_seen,
                 continuity_verdict verdict);

/// What `now` says against `last` (the mark this node holds).
continuity_verdict judge_continuity(const continuity_mark& last,
                                    const continuity_mark& now);

/// What a node that starts finds, `now` (read, not incremented), against
/// `kept`, the mark its data dir kept from before (decision 67): the same
/// epoch must hold a sequence at least the kept one; another epoch is
/// `accepted` only when an operator accepted it after the kept mark was
/// taken (Redis's times of both), so an acceptance restored with an older
/// backup does not cover marks taken since.
continuity_verdict judge_restart(const continuity_mark& kept,
                                 const continuity_mark& now,
                                 const continuity_acceptance& acceptance);

/// One line for logs, /healthz and the 503's message.
std::string describe(continuity_verdict verdict, const continuity_mark& last,
                     const continuity_mark& now);

} // namespace psp::redis
