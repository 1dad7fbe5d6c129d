#pragma once

// What this node's calls to the card network came to since it started, for
// /metrics: the on-call audit planted a network answering 503 to every call
// and no operator view said so for three minutes (payments sat in
// "processing" until they were dead-lettered). The client counts each
// answer; the HTTP adapter reads them.

#include <atomic>
#include <cstdint>

namespace psp::card {

struct network_counters {
  std::atomic<uint64_t> approved{0};
  std::atomic<uint64_t> declined{0};
  /// No final answer: an error status, a timeout, a refused connection.
  /// The payment tries again (the same idempotency key) until its tries
  /// run out.
  std::atomic<uint64_t> failed{0};
  /// Summed duration of every call, for the mean (µs).
  std::atomic<uint64_t> call_us_total{0};
};

} // namespace psp::card
