#include "runtime/periodic_thread.hpp"

#include "adapters/thread_name.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>

namespace psp {

periodic_thread::periodic_thread(const char* thread_name,
                                 uint32_t interval_ms,
                                 std::function<void()> round)
  : thread_name_(thread_name),
    interval_ms_(interval_ms),
    round_(std::move(round)) {
}

periodic_thread::~periodic_thread() {
  stop();
}

void periodic_thread::start() {
  if (!thread_.joinable()) {
    thread_ = std::thread{[this] {
      name_this_thread(thread_name_);
      loop();
    }};
  }
}

void periodic_thread::stop() {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void periodic_thread::loop() {
  std::unique_lock<std::mutex> lock{mutex_};
  while (!stopping_) {
    lock.unlock();
    // A round that throws (a reply no decoder expected) is logged and the
    // next one runs: uncaught, it would end the whole node.
    try {
      round_();
    } catch (const std::exception& e) {
      spdlog::error("{}: a round failed: {}", thread_name_, e.what());
    }
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds{interval_ms_},
                   [this] { return stopping_.load(); });
  }
}

} // namespace psp
