#include "adapters/redis/redis_continuity.hpp"

#include "adapters/redis/clock_check.hpp"

#include <cstdlib>

namespace psp::redis {

namespace {

// KEYS[1] epoch, KEYS[2] sequence, ARGV[1] the epoch to store if none is.
// Each also answers Redis's TIME, read before its write (allowed: scripts
// replicate their effects).
constexpr const char* adopt_lua = R"lua(
local t = redis.call('TIME')
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return {redis.call('GET', KEYS[1]), redis.call('INCR', KEYS[2]), t[1], t[2]}
)lua";

// A missing epoch is answered as is: recreating it here would hide that
// the data set went away.
constexpr const char* look_lua = R"lua(
local t = redis.call('TIME')
local epoch = redis.call('GET', KEYS[1])
if not epoch then return {false, 0, t[1], t[2]} end
return {epoch, redis.call('INCR', KEYS[2]), t[1], t[2]}
)lua";

std::optional<continuity_mark> mark_of(const std::optional<value>& reply) {
  if (!reply || !reply->is_array() || reply->elements.size() != 4) {
    return std::nullopt;
  }
  auto redis_us = time_reply_us(reply->elements[2], reply->elements[3]);
  if (!redis_us) {
    return std::nullopt;
  }
  continuity_mark out;
  auto& epoch = reply->elements[0];
  if (!epoch.is_nil()) {
    out.epoch = epoch.text();
  }
  out.sequence = reply->elements[1].integer;
  out.redis_time_us = *redis_us;
  return out;
}

} // namespace

std::optional<continuity_mark> adopt_continuity(connection& conn,
                                                const std::string& new_epoch) {
  auto mark = mark_of(conn.query({"EVAL", adopt_lua, "2", redis_epoch_key,
                                  redis_sequence_key, new_epoch}));
  if (mark && !mark->epoch) {
    return std::nullopt; // cannot be: stored in the same step
  }
  return mark;
}

std::optional<continuity_mark> look_at_continuity(connection& conn) {
  return mark_of(
    conn.query({"EVAL", look_lua, "2", redis_epoch_key, redis_sequence_key}));
}

std::optional<std::string> accepted_epoch(connection& conn) {
  auto reply = conn.query({"HGET", redis_recovery_key, "epoch"});
  if (!reply) {
    return std::nullopt;
  }
  return reply->is_nil() ? std::string{} : reply->text();
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
                                 const std::string& accepted_epoch) {
  auto verdict = judge_continuity(kept, now);
  if (verdict == continuity_verdict::replaced && !accepted_epoch.empty()
      && accepted_epoch == *now.epoch) {
    return continuity_verdict::accepted;
  }
  return verdict;
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
      return redis_epoch_key + " changed: Redis holds another data set";
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
