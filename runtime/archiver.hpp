#pragma once

// The node's archiver: a plain thread (blocking Redis calls stay off CAF's
// scheduler) that packs paid charges into the compressed archive once they
// are old enough (adapters/redis/archive_scripts.hpp). Every node runs one;
// they share the queue, each entry goes to one of them.

#include "adapters/redis/archive_store.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace psp {

struct archiver_settings {
  redis::endpoint where;
  uint32_t redis_timeout_ms = 2'000;
  int64_t after_ms = 3'600'000;
  uint32_t interval_ms = 1'000;
  /// Payments per round; a full batch is followed by the next at once.
  size_t batch = redis::archive_batch;
};

class archiver {
public:
  explicit archiver(archiver_settings cfg);
  ~archiver();
  archiver(const archiver&) = delete;
  archiver& operator=(const archiver&) = delete;

  void start();
  /// Lets the current batch finish and joins the thread.
  void stop();

  /// Payments archived by this node since it started.
  uint64_t archived() const { return archived_.load(); }

private:
  void loop();

  archiver_settings cfg_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> archived_{0};
};

} // namespace psp
