#include "adapters/redis/redis_continuity.hpp"

#include "adapters/redis/clock_check.hpp"

#include <cstdlib>

namespace psp::redis {

namespace {

// KEYS[1] epoch, KEYS[2] sequence, KEYS[3] the recorded loss; ARGV[1] the
// epoch to store if none is. Each answers {epoch, sequence, TIME s, TIME
// µs, the recorded loss's reason}, Redis's TIME read before any write
// (allowed: scripts replicate their effects). With a loss recorded nothing
// is written: the data set waits for an operator's acceptance.
constexpr const char* adopt_lua = R"lua(
local t = redis.call('TIME')
local loss = redis.call('HGET', KEYS[3], 'reason')
if loss then
  return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]), t[1], t[2],
          loss}
end
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return {redis.call('GET', KEYS[1]), redis.call('INCR', KEYS[2]), t[1], t[2],
        false}
)lua";

// Reads only (a node judging at start): the markers, TIME, the recorded
// loss, and the acceptance's epoch and time (KEYS[4]).
constexpr const char* read_lua = R"lua(
local t = redis.call('TIME')
local accepted = redis.call('HMGET', KEYS[4], 'epoch', 'accepted_at_us')
return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]), t[1], t[2],
        redis.call('HGET', KEYS[3], 'reason'), accepted[1], accepted[2]}
)lua";

// A missing epoch is answered as is: recreating it here would hide that
// the data set went away. Nor is the sequence moved once a loss is
// recorded: the nodes that go on (under warn) must not carry it back over
// a mark some node kept.
constexpr const char* look_lua = R"lua(
local t = redis.call('TIME')
local epoch = redis.call('GET', KEYS[1])
local loss = redis.call('HGET', KEYS[3], 'reason')
if not epoch or loss then
  return {epoch, redis.call('GET', KEYS[2]), t[1], t[2], loss}
end
return {epoch, redis.call('INCR', KEYS[2]), t[1], t[2], false}
)lua";

// KEYS[1] the recorded loss, KEYS[2] the epoch, KEYS[3] the acceptance;
// ARGV: 1 reason, 2 node, 3 the epoch the loss was found with ("" for
// none), 4 "replaced" when the finding is another epoch. The first recorded
// stays; nothing is recorded once the epoch moved on (an operator accepted
// the data set: a node still refusing must not undo that).
constexpr const char* record_loss_lua = R"lua(
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[3] then return 0 end
if ARGV[4] == 'replaced' and redis.call('HGET', KEYS[3], 'epoch') == ARGV[3]
then
  return 0 -- an operator accepted this epoch while the node ran
end
local t = redis.call('TIME')
if redis.call('HSETNX', KEYS[1], 'reason', ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], 'node', ARGV[2], 'at', t[1])
end
return 1
)lua";

int64_t sequence_of(const value& v) {
  if (v.is_nil()) {
    return 0;
  }
  return v.type == value::kind::integer
           ? v.integer
           : std::strtoll(v.text().c_str(), nullptr, 10);
}

std::optional<continuity_mark> mark_of(const std::optional<value>& reply,
                                       size_t elements = 5) {
  if (!reply || !reply->is_array() || reply->elements.size() != elements) {
    return std::nullopt;
  }
  auto& e = reply->elements;
  auto redis_us = time_reply_us(e[2], e[3]);
  if (!redis_us) {
    return std::nullopt;
  }
  continuity_mark out;
  if (!e[0].is_nil()) {
    out.epoch = e[0].text();
  }
  out.sequence = sequence_of(e[1]);
  out.redis_time_us = *redis_us;
  if (!e[4].is_nil()) {
    out.recorded_loss = e[4].text();
  }
  return out;
}

} // namespace

std::optional<continuity_mark> adopt_continuity(connection& conn,
                                                const std::string& new_epoch) {
  auto mark = mark_of(conn.query({"EVAL", adopt_lua, "3", redis_epoch_key,
                                  redis_sequence_key, redis_loss_key,
                                  new_epoch}));
  if (mark && !mark->epoch && mark->recorded_loss.empty()) {
    return std::nullopt; // cannot be: stored in the same step
  }
  return mark;
}

std::optional<continuity_mark> look_at_continuity(connection& conn) {
  return mark_of(conn.query({"EVAL", look_lua, "3", redis_epoch_key,
                             redis_sequence_key, redis_loss_key}));
}

std::optional<continuity_reading> read_continuity(connection& conn) {
  auto reply = conn.query({"EVAL", read_lua, "4", redis_epoch_key,
                           redis_sequence_key, redis_loss_key,
                           redis_recovery_key});
  auto mark = mark_of(reply, 7);
  if (!mark) {
    return std::nullopt;
  }
  continuity_reading out;
  out.mark = std::move(*mark);
  auto& e = reply->elements;
  if (!e[5].is_nil()) {
    out.acceptance.epoch = e[5].text();
  }
  if (!e[6].is_nil()) {
    out.acceptance.accepted_at_us =
      std::strtoll(e[6].text().c_str(), nullptr, 10);
  }
  return out;
}

bool record_loss(connection& conn, const std::string& reason,
                 const std::string& node, const std::string& epoch_seen,
                 continuity_verdict verdict) {
  auto reply = conn.query(
    {"EVAL", record_loss_lua, "3", redis_loss_key, redis_epoch_key,
     redis_recovery_key, reason, node, epoch_seen,
     verdict == continuity_verdict::replaced ? "replaced" : "other"});
  return reply.has_value();
}

std::optional<int64_t> follow_redis_clock(int64_t current_us, int64_t sent_us,
                                          int64_t answered_us,
                                          int64_t redis_time_us) {
  constexpr int64_t trusted_round_trip_us = 10'000;
  constexpr int64_t correction_min_us = 1'000;
  auto round_trip_us = answered_us - sent_us;
  if (round_trip_us < 0 || round_trip_us > trusted_round_trip_us) {
    return std::nullopt;
  }
  auto offset_us = redis_time_us - (sent_us + round_trip_us / 2);
  if (current_us != 0 && std::llabs(offset_us - current_us) < correction_min_us) {
    return std::nullopt;
  }
  return offset_us;
}

continuity_verdict judge_continuity(const continuity_mark& last,
                                    const continuity_mark& now) {
  if (!now.recorded_loss.empty()) {
    return continuity_verdict::loss_recorded;
  }
  if (!now.epoch) {
    return continuity_verdict::emptied;
  }
  if (!last.epoch || *last.epoch != *now.epoch) {
    return continuity_verdict::replaced;
  }
  return now.sequence > last.sequence ? continuity_verdict::kept
                                      : continuity_verdict::rolled_back;
}

continuity_verdict judge_restart(const continuity_mark& kept,
                                 const continuity_mark& now,
                                 const continuity_acceptance& acceptance) {
  if (!now.recorded_loss.empty()) {
    return continuity_verdict::loss_recorded;
  }
  if (!now.epoch) {
    return continuity_verdict::emptied;
  }
  if (kept.epoch && *kept.epoch == *now.epoch) {
    // Read, not incremented: what this node last saw is still there.
    return now.sequence >= kept.sequence ? continuity_verdict::kept
                                         : continuity_verdict::rolled_back;
  }
  if (!acceptance.epoch.empty() && acceptance.epoch == *now.epoch
      && acceptance.accepted_at_us > kept.redis_time_us) {
    return continuity_verdict::accepted;
  }
  return continuity_verdict::replaced;
}

std::string describe(continuity_verdict verdict, const continuity_mark& last,
                     const continuity_mark& now) {
  switch (verdict) {
    case continuity_verdict::kept:
      return "Redis holds what it acknowledged";
    case continuity_verdict::emptied:
      return "Redis no longer holds " + redis_epoch_key
             + ": its data set was emptied or replaced";
    case continuity_verdict::replaced:
      return redis_epoch_key + " changed: Redis holds another data set "
             "(another deployment's, or this one's from before an operator "
             "accepted a loss)";
    case continuity_verdict::loss_recorded:
      return "Redis records a loss a node found (" + redis_loss_key
             + "): " + now.recorded_loss;
    case continuity_verdict::accepted:
      return redis_epoch_key + " is " + now.epoch.value_or("")
             + ", which an operator accepted after a loss (was "
             + last.epoch.value_or("") + ")";
    case continuity_verdict::rolled_back:
      return redis_sequence_key + " went back from "
             + std::to_string(last.sequence) + " to "
             + std::to_string(now.sequence)
             + ": Redis lost writes it had acknowledged (a restore from an "
               "older backup, a failover to a replica that lagged)";
  }
  return {};
}

} // namespace psp::redis
