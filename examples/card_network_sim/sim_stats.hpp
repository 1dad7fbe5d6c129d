#pragma once

// Counters behind GET /admin/stats.

#include <atomic>
#include <cstdint>

#include <nlohmann/json.hpp>

namespace psp::sim {

/// Monotonic counters, reset by POST /admin/reset.
struct sim_stats {
  /// Requests to /v1/charges and /v1/refunds.
  std::atomic<uint64_t> requests{0};
  /// Succeeded charges recorded.
  std::atomic<uint64_t> charges{0};
  /// Declined charges recorded.
  std::atomic<uint64_t> declines{0};
  /// Refunds recorded.
  std::atomic<uint64_t> refunds{0};
  /// Answers replayed from the idempotency table.
  std::atomic<uint64_t> replays{0};
  /// Injected 503s, injected 500s and black-holed requests.
  std::atomic<uint64_t> injected_errors{0};

  void clear() {
    for (auto* c : {&requests, &charges, &declines, &refunds, &replays,
                    &injected_errors}) {
      c->store(0);
    }
  }

  nlohmann::json to_json() const {
    return {{"requests", requests.load()},
            {"charges", charges.load()},
            {"declines", declines.load()},
            {"refunds", refunds.load()},
            {"replays", replays.load()},
            {"injected_errors", injected_errors.load()}};
  }
};

} // namespace psp::sim
