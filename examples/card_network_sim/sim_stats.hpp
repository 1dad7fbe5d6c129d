#pragma once

// Counters behind GET /admin/stats.

#include <atomic>
#include <cstdint>

#include <nlohmann/json.hpp>

namespace psp::sim {

/// Monotonic counters, reset by POST /admin/reset.
struct sim_stats {
  /// Requests to /v1/* (charges, refunds, captures, voids).
  std::atomic<uint64_t> requests{0};
  /// Succeeded charges captured at once (`capture` true or absent).
  std::atomic<uint64_t> charges{0};
  /// Approved charges only authorised (`capture` false).
  std::atomic<uint64_t> authorizations{0};
  /// Authorisations captured through /v1/charges/{id}/capture.
  std::atomic<uint64_t> captures{0};
  /// Authorisations released through /v1/charges/{id}/void.
  std::atomic<uint64_t> voids{0};
  /// Declined charges recorded.
  std::atomic<uint64_t> declines{0};
  /// Refunds recorded.
  std::atomic<uint64_t> refunds{0};
  /// Answers replayed from the idempotency table.
  std::atomic<uint64_t> replays{0};
  /// Injected 503s, injected 500s and black-holed requests.
  std::atomic<uint64_t> injected_errors{0};

  void clear() {
    for (auto* c : {&requests, &charges, &authorizations, &captures, &voids,
                    &declines, &refunds, &replays, &injected_errors}) {
      c->store(0);
    }
  }

  nlohmann::json to_json() const {
    return {{"requests", requests.load()},
            {"charges", charges.load()},
            {"authorizations", authorizations.load()},
            {"captures", captures.load()},
            {"voids", voids.load()},
            {"declines", declines.load()},
            {"refunds", refunds.load()},
            {"replays", replays.load()},
            {"injected_errors", injected_errors.load()}};
  }
};

} // namespace psp::sim
