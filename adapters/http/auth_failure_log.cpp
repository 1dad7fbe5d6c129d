#include "adapters/http/auth_failure_log.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <mutex>

namespace psp::http {

namespace {

constexpr uint32_t lines_per_second_max = 10;

struct line_budget {
  std::mutex mtx;
  std::chrono::steady_clock::time_point window_start{};
  uint32_t lines_in_window = 0;
  uint64_t suppressed = 0;
};

line_budget& budget() {
  static line_budget b;
  return b;
}

} // namespace

void log_auth_failure(std::string_view realm, std::string_view reason,
                      std::string_view key_hint, std::string_view remote_addr) {
  auto& b = budget();
  uint64_t held_back = 0;
  {
    std::lock_guard<std::mutex> guard{b.mtx};
    auto now = std::chrono::steady_clock::now();
    if (now - b.window_start >= std::chrono::seconds{1}) {
      b.window_start = now;
      b.lines_in_window = 0;
    }
    if (b.lines_in_window >= lines_per_second_max) {
      ++b.suppressed;
      return;
    }
    ++b.lines_in_window;
    held_back = b.suppressed;
    b.suppressed = 0;
  }
  spdlog::warn("event=auth_failed realm={} reason={} key={} remote={} "
               "suppressed={}",
               realm, reason, key_hint.empty() ? "-" : key_hint,
               remote_addr.empty() ? "-" : remote_addr, held_back);
}

} // namespace psp::http
