#include "runtime/archiver.hpp"

#include "actors/clock.hpp"

#include <spdlog/spdlog.h>

namespace psp {

archiver::archiver(archiver_settings cfg)
  : cfg_(std::move(cfg)),
    conn_(cfg_.where, cfg_.redis_timeout_ms),
    thread_("psp.archiver", cfg_.interval_ms, [this] { round(); }) {
}

void archiver::round() {
  redis::archive_pass pass;
  do {
    pass = redis::archive_due_payments(conn_, unix_now_ms(), cfg_.after_ms,
                                       cfg_.batch, dictionaries_);
    if (pass.failed) {
      // Taken entries of a failed round stay unarchived (never lost); the
      // next round goes on with the queue.
      spdlog::warn("event=archive_failed error=\"{}\"", conn_.last_error());
    } else if (pass.taken > 0) {
      spdlog::debug("event=archived taken={} archived={} later={} "
                    "skipped={} packed_bytes={}",
                    pass.taken, pass.archived, pass.later, pass.skipped,
                    pass.packed_bytes);
    }
  } while (!pass.failed && pass.taken == cfg_.batch && !thread_.stopping());
}

} // namespace psp
