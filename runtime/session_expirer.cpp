#include "runtime/session_expirer.hpp"

#include "actors/clock.hpp"
#include "adapters/redis/clock_check.hpp"
#include "adapters/redis/session_expiry.hpp"

#include <spdlog/spdlog.h>

namespace psp {

session_expirer::session_expirer(session_expirer_settings cfg)
  : cfg_(std::move(cfg)),
    conn_(cfg_.where, cfg_.redis_timeout_ms),
    thread_("psp.expiry", cfg_.interval_ms, [this] { round(); }) {
}

void session_expirer::round() {
  // Due by Redis's clock, not this node's: a node whose clock ran 2 h
  // ahead expired sessions up to an hour early (the clock audit).
  auto offset = redis::measure_clock_offset(conn_);
  if (!offset) {
    return; // Redis away: the due sessions wait for the next round
  }
  redis::expiry_sweep sweep;
  do {
    sweep = redis::expire_due_sessions(conn_,
                                       system_now_us() / 1000 - offset->offset_ms,
                                       redis::expiry_batch,
                                       cfg_.queue_for_archive);
    if (sweep.failed) {
      // Nothing is lost: the due sessions stay in the set for the next round.
      spdlog::warn("event=session_expiry_failed error=\"{}\"",
                   conn_.last_error());
    } else if (sweep.expired > 0) {
      spdlog::info("event=sessions_expired count={} queued_for_archive={}",
                   sweep.expired, sweep.queued);
    }
  } while (!sweep.failed && sweep.due == redis::expiry_batch
           && !thread_.stopping());
}

} // namespace psp
