#pragma once

// Per-merchant request rate limit of one node: a token bucket refilled at
// `rate_per_s` up to `burst` tokens. Over the limit the API answers 429
// (`StripeRateLimitError` in Stripe's clients). Each node counts on its own:
// a cluster of N nodes admits up to N times the rate, a deliberate trade
// against a Redis round trip per request.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace psp::http {

class rate_limiter {
public:
  using clock = std::chrono::steady_clock;

  /// rate_per_s 0: unlimited.
  rate_limiter(uint32_t rate_per_s, uint32_t burst)
    : rate_per_s_(rate_per_s), burst_(burst == 0 ? rate_per_s : burst) {
  }

  /// Takes one token for `merchant_id`; false when none is left.
  bool admit(const std::string& merchant_id,
             clock::time_point now = clock::now());

private:
  struct bucket {
    double tokens = 0;
    clock::time_point refilled;
  };

  uint32_t rate_per_s_;
  uint32_t burst_;
  std::mutex mtx_;
  std::unordered_map<std::string, bucket> buckets_;
};

} // namespace psp::http
