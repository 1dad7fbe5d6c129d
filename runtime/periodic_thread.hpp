#pragma once

// A plain thread that runs one round of housekeeping every interval until
// stopped: blocking Redis calls stay off CAF's scheduler. The archiver, the
// session expiry sweep and the reconciliation scheduler each own one.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace psp {

class periodic_thread {
public:
  /// `round` runs on the thread, named `thread_name` (at most 15
  /// characters); it should return soon after stopping() turns true.
  periodic_thread(const char* thread_name, uint32_t interval_ms,
                  std::function<void()> round);
  ~periodic_thread();
  periodic_thread(const periodic_thread&) = delete;
  periodic_thread& operator=(const periodic_thread&) = delete;

  /// Starts the thread once (again: nothing).
  void start();
  /// Lets the current round finish and joins the thread.
  void stop();
  bool stopping() const { return stopping_.load(); }

private:
  void loop();

  const char* thread_name_;
  uint32_t interval_ms_;
  std::function<void()> round_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
};

} // namespace psp
