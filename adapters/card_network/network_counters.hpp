#pragma once

// What this node's calls to the card network came to since it started, for
// /metrics: the on-call audit planted a network answering 503 to every call
// and no operator view said so for three minutes (payments sat in
// "processing" until they were dead-lettered). The client counts each
// answer by operation (a charge's answers are the payments' outcomes); the
// HTTP adapter reads them.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>

namespace psp::card {

// Without actors/messages.hpp (CAF): this is read by every HTTP handler's
// context. The client checks that these follow payment_op and
// charge_outcome.
inline constexpr const char* counted_ops[] = {"charge", "authorize",
                                              "capture", "void", "refund"};
inline constexpr const char* counted_outcomes[] = {"approved", "declined",
                                                   "failed"};

struct network_counters {
  static constexpr size_t ops = std::size(counted_ops);
  static constexpr size_t outcomes = std::size(counted_outcomes);
  /// By outcome: approved, declined, and failed (no final answer: an
  /// error status, a timeout, a refused connection; the step tries again
  /// under the same idempotency key until its tries run out).
  using by_outcome = std::array<std::atomic<uint64_t>, outcomes>;

  std::array<by_outcome, ops> calls{};
  /// Summed duration of every call, for the mean (µs).
  std::atomic<uint64_t> call_us_total{0};
  /// Answers that the key names another request: an attempt Redis lost
  /// (decision 70). Each is also an error line; alert on any.
  std::atomic<uint64_t> key_conflicts{0};

  /// `op` and `outcome` as payment_op's and charge_outcome's values.
  void count(size_t op, size_t outcome) {
    if (op < ops && outcome < outcomes) {
      ++calls[op][outcome];
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
