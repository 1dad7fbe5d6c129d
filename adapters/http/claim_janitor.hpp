#pragma once

// Settles Idempotency-Key writes that a request had to give up on while
// Redis did not answer. A claim sent to a stalled Redis times out and the
// request answers 503 ("retry with the same key"); when Redis resumes it
// applies the claim all the same, and the retry the 503 asked for would meet
// a live node's lease: 409 for a minute. Likewise an answer that could not be
// stored leaves the claim running. The janitor keeps trying each such write,
// a little less often each time, until the lease it is about would have
// ended anyway; one thread, a bounded queue, idle when nothing failed.

#include "adapters/redis/scripts.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace psp::redis {
class connection_pool;
} // namespace psp::redis

namespace psp::http {

/// One write to retry: `script` on `keys`/`args` until it is settled.
struct pending_key_write {
  const redis::script* script = nullptr;
  std::vector<std::string> keys;
  std::vector<std::string> args;
  /// Unix ms after which the lease in question has ended: then a retry runs
  /// whatever this write did, and the janitor gives up.
  int64_t give_up_at_ms = 0;
  /// The script answers "wait" while the claim may still land (an abandoned
  /// claim); otherwise any reply that is not an error settles the write.
  bool may_wait = false;
};

class claim_janitor {
public:
  /// Writes queued at most; past that a failed write is logged and its
  /// lease left to end on its own, as before the janitor.
  static constexpr size_t queue_max = 4096;

  explicit claim_janitor(redis::connection_pool& pool);
  ~claim_janitor();
  claim_janitor(const claim_janitor&) = delete;
  claim_janitor& operator=(const claim_janitor&) = delete;

  /// Queues a write; false when the queue is full.
  bool add(pending_key_write write);

  /// Writes queued and not settled yet.
  size_t pending() const;

private:
  struct entry {
    pending_key_write write;
    int64_t next_try_ms = 0;
    int64_t interval_ms = 0;
  };

  enum class try_outcome {
    done,      ///< settled, or given up at the end of its lease
    again,     ///< Redis answered; not settled yet
    no_answer, ///< Redis did not answer
  };

  void run();
  bool stopping() const;
  /// Tries the entries that are due; returns the ms until the next one is.
  int64_t try_due(int64_t now_ms);
  try_outcome try_one(redis::connection& conn, entry& e, int64_t now_ms);

  redis::connection_pool& pool_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<entry> queue_;
  bool stop_ = false;
  std::thread thread_;
};

} // namespace psp::http
