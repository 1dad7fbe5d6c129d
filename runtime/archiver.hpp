#pragma once

// The node's archiver: packs paid charges and finished refunds (and expired
// sessions) into the compressed archive once they are old enough
// (adapters/redis/archive_scripts.hpp), on a thread of its own. Every node
// runs one; they share the queue, each entry goes to one of them.

#include "adapters/redis/archive_store.hpp"
#include "runtime/periodic_thread.hpp"

#include <cstdint>

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

  void start() { thread_.start(); }
  /// Lets the current batch finish and joins the thread.
  void stop() { thread_.stop(); }

private:
  void round();

  archiver_settings cfg_;
  redis::connection conn_;
  redis::dictionary_cache dictionaries_;
  // Last: stopped (joined) before the members its rounds use are destroyed.
  periodic_thread thread_;
};

} // namespace psp
