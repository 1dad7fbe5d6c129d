#include "runtime/continuity_watch.hpp"

#include "actors/clock.hpp"
#include "adapters/crypto/random_id.hpp"
#include "adapters/redis/durability_check.hpp"
#include "runtime/continuity_mark_file.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>

namespace psp {

continuity_watch::continuity_watch(continuity_watch_settings cfg)
  : cfg_(std::move(cfg)),
    conn_(cfg_.where, cfg_.redis_timeout_ms),
    thread_("psp.continuity", cfg_.interval_ms, [this] { round(); }) {
}

bool continuity_watch::adopt() {
  std::optional<redis::continuity_mark> kept;
  if (!cfg_.mark_path.empty()) {
    std::string unreadable;
    kept = read_continuity_mark(cfg_.mark_path, unreadable);
    if (!unreadable.empty()) {
      // Nothing says what this node saw before; written fsynced, the mark
      // is whole after a crash, so this is damage, not a lost write.
      auto reason = "the Redis continuity mark cannot be read (" + unreadable
                    + "): whether Redis lost data since this node last ran "
                      "is unknown; check Redis, then remove the file";
      if (cfg_.enforce) {
        lost(reason);
        return true;
      }
      spdlog::warn("event=continuity_mark_unreadable error=\"{}\"",
                   unreadable);
    }
  }
  auto sent_us = steady_now_us();
  if (kept) {
    // Read only: a refused start must not move the sequence (decision 67).
    auto reading = redis::read_continuity(conn_);
    if (!reading) {
      spdlog::warn("event=redis_epoch_unread error=\"{}\"",
                   conn_.last_error());
      return false;
    }
    follow_clock(sent_us, reading->mark);
    if (!judge_kept(*kept, *reading)) {
      return true; // lost: no rounds, nothing kept, nothing written
    }
    sent_us = steady_now_us();
  }
  // Stores an epoch only if Redis has none: a first start, or a scratch
  // stack (warn) going on from an emptied Redis.
  auto mark = redis::adopt_continuity(conn_, crypto::new_id("epoch_"));
  if (!mark) {
    spdlog::warn("event=redis_epoch_unread error=\"{}\"", conn_.last_error());
    return false;
  }
  follow_clock(sent_us, *mark);
  if (!mark->recorded_loss.empty()) {
    // A node without a kept mark (a new data dir) on a data set another
    // node found lost. Under warn it is said and the node goes on
    // unwatched, as after a loss found while running.
    lost(redis::describe(redis::continuity_verdict::loss_recorded, *mark,
                         *mark));
    return true;
  }
  set_last(*mark);
  keep_mark();
  // connects_checked_ stays 0: the first round reads Redis's settings on
  // this connection too (the start's reading may have found Redis
  // stalled and passed it unverified).
  spdlog::info("event=redis_epoch_adopted epoch={} sequence={}",
               *last_.epoch, last_.sequence);
  return true;
}

bool continuity_watch::judge_kept(const redis::continuity_mark& kept,
                                  const redis::continuity_reading& now) {
  auto verdict = redis::judge_restart(kept, now.mark, now.acceptance);
  if (verdict == redis::continuity_verdict::kept) {
    return true;
  }
  auto reason = redis::describe(verdict, kept, now.mark);
  if (verdict == redis::continuity_verdict::accepted) {
    spdlog::warn("event=redis_state_accepted reason=\"{}\"", reason);
    return true;
  }
  if (verdict != redis::continuity_verdict::loss_recorded) {
    reason += " since this node last ran (the mark kept in "
              + cfg_.mark_path + ")";
    record(conn_, reason, now.mark.epoch.value_or(""), verdict);
  }
  // Under warn (a scratch stack) said, and the node goes on unwatched, as
  // after a loss found while running; it never writes the mark, so the
  // nodes sharing the data dir keep judging by theirs.
  lost(reason);
  return false;
}

void continuity_watch::record(redis::connection& conn,
                              const std::string& reason,
                              const std::string& epoch_seen,
                              redis::continuity_verdict verdict) {
  // Kept in the data set itself, so that every node refuses it, whatever
  // its own mark says or whether it has one, until an operator accepts it.
  if (!redis::record_loss(conn, reason, cfg_.node_id, epoch_seen, verdict)) {
    spdlog::error("event=redis_loss_unrecorded error=\"{}\"",
                  conn.last_error());
  }
  std::lock_guard<std::mutex> guard{shared_mutex_};
  recorded_reason_ = reason;
  recorded_epoch_ = epoch_seen;
  recorded_verdict_ = verdict;
}

void continuity_watch::keep_mark() {
  if (cfg_.mark_path.empty() || !cfg_.enforce) {
    return;
  }
  std::string error;
  bool written = write_continuity_mark(cfg_.mark_path, last_, error);
  if (written == mark_written_) {
    return;
  }
  mark_written_ = written;
  if (cfg_.on_mark_written) {
    cfg_.on_mark_written(written);
  }
  if (!written) {
    // The node goes on, but a restart could no longer tell a loss since:
    // said once, and shown by /metrics until a write works again.
    spdlog::error("event=continuity_mark_unwritable error=\"{}\"", error);
  } else {
    spdlog::warn("event=continuity_mark_writable_again");
  }
}

void continuity_watch::round() {
  if (lost_) {
    // Kept recorded while this node refuses: a record deleted by hand
    // would let nodes that start adopt the loss (the second re-test).
    std::string reason;
    std::string epoch;
    auto verdict = redis::continuity_verdict::kept;
    {
      std::lock_guard<std::mutex> guard{shared_mutex_};
      reason = recorded_reason_;
      epoch = recorded_epoch_;
      verdict = recorded_verdict_;
    }
    if (!reason.empty()) {
      redis::record_loss(conn_, reason, cfg_.node_id, epoch, verdict);
    }
    return;
  }
  if (!last_.epoch) {
    adopt(); // Redis did not answer at start
    return;
  }
  auto sent_us = steady_now_us();
  auto now = redis::look_at_continuity(conn_);
  if (!now) {
    // Redis down, restarting or refusing writes: the API answers 503
    // meanwhile. Said once, not by every job that fails for it.
    if (unreachable_since_us_ == 0) {
      unreachable_since_us_ = sent_us;
      spdlog::warn("event=redis_unreachable error=\"{}\"", conn_.last_error());
    }
    return;
  }
  if (unreachable_since_us_ != 0) {
    spdlog::warn("event=redis_reachable_again after_ms={}",
                 (steady_now_us() - unreachable_since_us_) / 1000);
    unreachable_since_us_ = 0;
  }
  follow_clock(sent_us, *now);
  bool reconnected = conn_.connects() != connects_checked_;
  if (reconnected || ++rounds_since_settings_ >= settings_every_rounds) {
    // A new connection (perhaps to a Redis that restarted with other
    // settings), and every half minute (a CONFIG SET while it runs; the
    // re-test found one acknowledged on a Redis that kept nothing).
    connects_checked_ = conn_.connects();
    rounds_since_settings_ = 0;
    auto reason = durability_lost();
    if (reconnected) {
      spdlog::info("event=redis_settings_rechecked durable={}",
                   reason.empty());
    }
    if (!reason.empty()) {
      lost("Redis does not keep what it acknowledges: " + reason);
      return;
    }
  }
  auto verdict = redis::judge_continuity(last_, *now);
  if (verdict != redis::continuity_verdict::kept) {
    auto reason = redis::describe(verdict, last_, *now);
    if (verdict != redis::continuity_verdict::loss_recorded) {
      record(conn_, reason, now->epoch.value_or(""), verdict);
    }
    lost(reason);
    return;
  }
  set_last(*now);
  keep_mark();
}

std::string continuity_watch::check_connection(redis::connection& conn) {
  static const std::string found_lost =
    "this node found Redis lost data it had acknowledged";
  if (lost_) {
    return cfg_.enforce ? found_lost : std::string{};
  }
  redis::continuity_mark known;
  {
    std::lock_guard<std::mutex> guard{shared_mutex_};
    known = last_;
  }
  if (!known.epoch) {
    return {}; // not adopted yet (the HTTP server is not listening)
  }
  auto reading = redis::read_continuity(conn);
  if (!reading) {
    // Redis answers with an error (-LOADING while it replays an AOF, a
    // restore's too): not used unchecked, the next command checks again.
    return "Redis's continuity could not be checked on a new connection ("
           + conn.last_error() + ")";
  }
  // A running node accepts no other epoch: an acceptance is for nodes
  // that start (decision 67).
  auto verdict = redis::judge_restart(known, reading->mark, {});
  if (verdict == redis::continuity_verdict::kept) {
    return {};
  }
  auto reason = redis::describe(verdict, known, reading->mark);
  if (verdict != redis::continuity_verdict::loss_recorded) {
    reason += " (seen on a new connection, before its first request)";
    record(conn, reason, reading->mark.epoch.value_or(""), verdict);
  }
  lost(reason);
  return cfg_.enforce ? found_lost : std::string{};
}

void continuity_watch::set_last(const redis::continuity_mark& mark) {
  // Written only by the watch's thread (and adopt(), before it starts),
  // which reads it without the lock; other threads read it under the lock.
  std::lock_guard<std::mutex> guard{shared_mutex_};
  last_ = mark;
}

void continuity_watch::follow_clock(int64_t sent_us,
                                    const redis::continuity_mark& mark) {
  auto current_us = redis_minus_steady_us.load();
  auto next_us = redis::follow_redis_clock(current_us, sent_us,
                                           steady_now_us(), mark.redis_time_us);
  if (!next_us) {
    return;
  }
  redis_minus_steady_us.store(*next_us);
  auto moved_ms = (*next_us - current_us) / 1'000;
  if (current_us != 0 && std::llabs(moved_ms) >= 1'000) {
    // The monotonic clock does not step: Redis's clock did.
    spdlog::warn("event=redis_clock_stepped moved_ms={}", moved_ms);
  }
}

std::string continuity_watch::durability_lost() {
  std::string err;
  auto settings = redis::read_redis_settings(conn_, err);
  if (!settings) {
    // A managed Redis may refuse CONFIG for good: said once, not twice a
    // minute.
    if (!unverified_told_) {
      spdlog::warn("event=redis_settings_unverified error=\"{}\"", err);
      unverified_told_ = true;
    }
    return {};
  }
  unverified_told_ = false;
  std::string reasons;
  for (auto& f : redis::judge_redis_settings(*settings)) {
    if (f.breaks_durability) {
      reasons += (reasons.empty() ? "" : "; ") + f.text;
    }
  }
  return reasons;
}

void continuity_watch::lost(const std::string& reason) {
  if (lost_.exchange(true)) {
    return; // found once: by a round, at start or on a new connection
  }
  if (!cfg_.enforce) {
    spdlog::critical("event=redis_state_lost action=none reason=\"{}\"",
                     reason);
    return;
  }
  // Every step named: accepting alone reopened checkouts paid since the
  // backup (the operator audit followed this line and saw four paid
  // checkouts open again).
  spdlog::critical("event=redis_state_lost action=refusing_requests "
                   "reason=\"{}\" \"check Redis; reconcile the period since "
                   "the backup (psp-admin reconcile), end the checkouts it "
                   "finds paid (psp-admin end-reopened-sessions --run ID), "
                   "then psp-admin accept-redis-state and restart the node "
                   "(docs/faults.md: Redis lost data)\"",
                   reason);
  if (cfg_.on_lost) {
    cfg_.on_lost(reason);
  }
}

} // namespace psp
