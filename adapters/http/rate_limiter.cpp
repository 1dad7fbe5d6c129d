#include "adapters/http/rate_limiter.hpp"

#include <algorithm>

namespace psp::http {

bool rate_limiter::admit(const std::string& merchant_id,
                         clock::time_point now) {
  if (rate_per_s_ == 0) {
    return true;
  }
  std::lock_guard<std::mutex> guard{mtx_};
  auto [it, fresh] = buckets_.try_emplace(merchant_id);
  auto& b = it->second;
  if (fresh) {
    b.tokens = burst_;
    b.refilled = now;
  } else if (now > b.refilled) {
    std::chrono::duration<double> elapsed = now - b.refilled;
    b.tokens = std::min<double>(burst_,
                                b.tokens + elapsed.count() * rate_per_s_);
    b.refilled = now;
  }
  if (b.tokens < 1.0) {
    return false;
  }
  b.tokens -= 1.0;
  return true;
}

} // namespace psp::http
