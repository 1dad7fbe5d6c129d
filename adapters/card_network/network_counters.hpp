#pragma once

// What this node's calls to the card network came to since it started, for
// /metrics: the on-call audit planted a network answering 503 to every call
// and no operator view said so for three minutes (payments sat in
// "processing" until they were dead-lettered). The client counts each
// answer by operation (a charge's answers are the payments' outcomes); the
// HTTP adapter reads them.

#include "actors/messages.hpp"

#include <array>
#include <atomic>
#include <cstdint>

namespace psp::card {

struct network_counters {
  /// Indexed by charge_outcome: approved, declined, and failed (no final
  /// answer: an error status, a timeout, a refused connection; the step
  /// tries again under the same idempotency key until its tries run out).
  using by_outcome = std::array<std::atomic<uint64_t>, 3>;
  static constexpr size_t ops = 5; ///< payment_op's values

  std::array<by_outcome, ops> calls{};
  /// Summed duration of every call, for the mean (µs).
  std::atomic<uint64_t> call_us_total{0};

  void count(payment_op op, charge_outcome outcome) {
    auto o = static_cast<size_t>(op);
    auto r = static_cast<size_t>(outcome);
    if (o < ops && r < 3) {
      ++calls[o][r];
    }
  }
  uint64_t total() const {
    uint64_t n = 0;
    for (auto& per_op : calls) {
      for (auto& c : per_op) {
        n += c.load();
      }
    }
    return n;
  }
};

} // namespace psp::card
