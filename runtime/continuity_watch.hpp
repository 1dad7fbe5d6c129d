#pragma once

// Every second, the node's clock set to Redis's (actors/clock.hpp, decision
// 63), and whether Redis still holds what this node saw it
// acknowledge (adapters/redis/redis_continuity.hpp, decision 62), and, on
// each new connection (Redis restarted, perhaps with other settings) and
// every half minute, whether it still keeps what it acknowledges (decision
// 42's settings, checked at start, read again). The
// first bad answer is logged (`event=redis_state_lost`) and handed to
// `on_lost`, which stops the node taking requests; the watch then stops
// looking. The mark is kept on the node's disk too (decision 67), so a
// restart adopts Redis as it now is only if it did not lose what the node
// last saw, or if an operator accepted it (`psp-admin accept-redis-state`).

#include "adapters/redis/redis_connection.hpp"
#include "adapters/redis/redis_continuity.hpp"
#include "runtime/periodic_thread.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace psp {

struct continuity_watch_settings {
  redis::endpoint where;
  uint32_t redis_timeout_ms = 2'000;
  uint32_t interval_ms = 1'000;
  /// False (--psp.redis-durability=warn, a scratch stack): a loss is
  /// logged, and the node goes on.
  bool enforce = true;
  /// Recorded with a loss this node finds (psp:redis_state_lost).
  std::string node_id;
  /// Where the last mark is kept across restarts
  /// (runtime/continuity_mark_file.hpp); "" keeps it in memory only.
  std::string mark_path;
  /// Called once, from the watch's thread, with the reason.
  std::function<void(const std::string&)> on_lost;
  /// Called from the watch's thread when writing the mark starts failing
  /// (false) or works again (true).
  std::function<void(bool)> on_mark_written;
};

class continuity_watch {
public:
  explicit continuity_watch(continuity_watch_settings cfg);

  /// The mark this node starts from: judged against the one kept on disk
  /// (a loss since the node last ran stops it as a loss while it runs
  /// would), or, with none kept, Redis's (storing an epoch if Redis has
  /// none); false when Redis did not answer (the first round tries again).
  bool adopt();
  /// The check of every new Redis connection of the node
  /// (redis::set_connect_check), from any thread: Redis must still hold
  /// what this node last saw, or the connection's first command fails and
  /// the node refuses requests. A restore under running nodes was served
  /// for the second before the next round (the second re-test paid a
  /// reopened checkout twice).
  /// "" to go on; else why the connection must not be used.
  std::string check_connection(redis::connection& conn);
  void start() { thread_.start(); }
  void stop() { thread_.stop(); }

private:
  void round();
  /// The reason Redis would lose what it acknowledges, "" when it would not
  /// (or its settings cannot be read: a managed Redis, as at start).
  std::string durability_lost();
  /// Moves the node's clock (actors/clock.hpp) to Redis's, as a look sent
  /// at `sent_us` (monotonic) measured it.
  void follow_clock(int64_t sent_us, const redis::continuity_mark& mark);
  void lost(const std::string& reason);
  /// The kept mark judged against `now` (a look that found an epoch or
  /// none); false when the node must not adopt it.
  bool judge_kept(const redis::continuity_mark& kept,
                  const redis::continuity_reading& now);
  /// Records a loss this node found in Redis, for every node to see, and
  /// keeps it for the rounds to record again while the node refuses.
  void record(redis::connection& conn, const std::string& reason,
              const std::string& epoch_seen, redis::continuity_verdict verdict);
  /// Sets last_ under shared_mutex_ (check_connection reads it there).
  void set_last(const redis::continuity_mark& mark);
  /// Replaces the mark on disk with last_ (said once while it fails);
  /// never under warn.
  void keep_mark();

  continuity_watch_settings cfg_;
  redis::connection conn_;
  /// What this node last saw; set_last writes it under shared_mutex_.
  redis::continuity_mark last_;
  /// When the looks started failing (monotonic µs; 0: they do not).
  int64_t unreachable_since_us_ = 0;
  /// conn_.connects() when Redis's settings were last judged, and the
  /// rounds since (they are judged again every settings_every_rounds).
  uint64_t connects_checked_ = 0;
  uint32_t rounds_since_settings_ = 0;
  static constexpr uint32_t settings_every_rounds = 30;
  bool unverified_told_ = false;
  bool mark_written_ = true; ///< the last write worked (or none failed)
  std::atomic<bool> lost_{false};
  /// Guards last_'s writes and other threads' reads, and the recorded loss.
  std::mutex shared_mutex_;
  std::string recorded_reason_;        ///< the loss this node recorded
  std::string recorded_epoch_;
  redis::continuity_verdict recorded_verdict_ =
    redis::continuity_verdict::kept;
  // Last: stopped (joined) before the members its rounds use are destroyed.
  periodic_thread thread_;
};

} // namespace psp
