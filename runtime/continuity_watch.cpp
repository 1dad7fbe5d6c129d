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
    std::string error;
    kept = read_continuity_mark(cfg_.mark_path, error);
    if (!error.empty()) {
      // Judged as a first start: the check of a restart is lost, the node
      // is not stopped for a file it cannot read.
      spdlog::warn("event=continuity_mark_unreadable error=\"{}\"", error);
    }
  }
  auto sent_us = steady_now_us();
  // With a kept mark the epoch is never created here: an emptied Redis
  // stays visibly empty until an operator accepts it.
  auto mark = kept ? redis::look_at_continuity(conn_)
                   : redis::adopt_continuity(conn_, crypto::new_id("epoch_"));
  if (!mark) {
    spdlog::warn("event=redis_epoch_unread error=\"{}\"", conn_.last_error());
    return false;
  }
  follow_clock(sent_us, *mark);
  if (kept && !judge_kept(*kept, *mark)) {
    return true; // lost: no rounds, nothing kept
  }
  if (!mark->epoch) {
    // Under --psp.redis-durability=warn, after an emptied Redis was logged:
    // a scratch stack starts over.
    mark = redis::adopt_continuity(conn_, crypto::new_id("epoch_"));
    if (!mark) {
      spdlog::warn("event=redis_epoch_unread error=\"{}\"",
                   conn_.last_error());
      return false;
    }
  }
  last_ = *mark;
  keep_mark();
  // connects_checked_ stays 0: the first round reads Redis's settings on
  // this connection too (the start's reading may have found Redis
  // stalled and passed it unverified).
  spdlog::info("event=redis_epoch_adopted epoch={} sequence={}",
               *last_.epoch, last_.sequence);
  return true;
}

bool continuity_watch::judge_kept(const redis::continuity_mark& kept,
                                  const redis::continuity_mark& now) {
  std::string accepted;
  if (now.epoch && *now.epoch != *kept.epoch) {
    auto stored = redis::accepted_epoch(conn_);
    accepted = stored.value_or(""); // unread: judged as not accepted
  }
  auto verdict = redis::judge_restart(kept, now, accepted);
  if (verdict == redis::continuity_verdict::kept) {
    return true;
  }
  auto reason = redis::describe(verdict, kept, now);
  if (verdict == redis::continuity_verdict::accepted) {
    spdlog::warn("event=redis_state_accepted reason=\"{}\"", reason);
    return true;
  }
  reason += " since this node last ran (the mark kept in "
            + cfg_.mark_path + ")";
  if (!cfg_.enforce) {
    // A scratch stack: said, then adopted as it is and watched from there.
    spdlog::critical("event=redis_state_lost action=none reason=\"{}\"",
                     reason);
    return true;
  }
  lost(reason);
  return false;
}

void continuity_watch::keep_mark() {
  if (cfg_.mark_path.empty()) {
    return;
  }
  std::string error;
  if (write_continuity_mark(cfg_.mark_path, last_, error)) {
    mark_unwritable_told_ = false;
    return;
  }
  if (!mark_unwritable_told_) {
    // The node goes on: only a restart's check is weakened.
    spdlog::warn("event=continuity_mark_unwritable error=\"{}\"", error);
    mark_unwritable_told_ = true;
  }
}

void continuity_watch::round() {
  if (lost_) {
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
    lost(redis::describe(verdict, last_, *now));
    return;
  }
  last_ = *now;
  keep_mark();
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
  lost_ = true;
  if (!cfg_.enforce) {
    spdlog::critical("event=redis_state_lost action=none reason=\"{}\"",
                     reason);
    return;
  }
  spdlog::critical("event=redis_state_lost action=refusing_requests "
                   "reason=\"{}\" \"restart the node once Redis is checked "
                   "(docs/faults.md: Redis lost data)\"",
                   reason);
  if (cfg_.on_lost) {
    cfg_.on_lost(reason);
  }
}

} // namespace psp
