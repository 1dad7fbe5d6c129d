#include "runtime/archiver.hpp"

#include "actors/clock.hpp"
#include "adapters/redis/archive_store.hpp"

#include <spdlog/spdlog.h>

namespace psp {

archiver::archiver(archiver_settings cfg) : cfg_(std::move(cfg)) {
}

archiver::~archiver() {
  stop();
}

void archiver::start() {
  thread_ = std::thread{[this] { loop(); }};
}

void archiver::stop() {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void archiver::loop() {
  redis::connection conn{cfg_.where, cfg_.redis_timeout_ms};
  redis::dictionary_cache dictionaries;
  std::unique_lock<std::mutex> lock{mutex_};
  while (!stopping_) {
    lock.unlock();
    redis::archive_pass pass;
    do {
      pass = redis::archive_due_payments(conn, unix_now_ms(), cfg_.after_ms,
                                         cfg_.batch, dictionaries);
      archived_ += pass.archived;
      if (pass.failed) {
        // Taken entries of a failed round stay unarchived (never lost);
        // the next round goes on with the queue.
        spdlog::warn("event=archive_failed error=\"{}\"", conn.last_error());
      } else if (pass.taken > 0) {
        spdlog::debug("event=archived taken={} archived={} later={} "
                      "skipped={} packed_bytes={}",
                      pass.taken, pass.archived, pass.later, pass.skipped,
                      pass.packed_bytes);
      }
    } while (!pass.failed && pass.taken == cfg_.batch && !stopping_);
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds{cfg_.interval_ms},
                   [this] { return stopping_.load(); });
  }
}

} // namespace psp
