#include "adapters/http/api_context.hpp"

#include "adapters/redis/keys.hpp"

#include <algorithm>

namespace psp::http {

namespace {
constexpr size_t cache_entries_max = 10'000;
/// How often a node asks whether a merchant's keys or fees changed.
constexpr int64_t generation_check_ms = 1'000;

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}
} // namespace

void api_context::refresh_merchant_cache() {
  auto now_ms = steady_ms();
  auto checked = generation_checked_ms_.load();
  if (now_ms - checked < generation_check_ms
      || !generation_checked_ms_.compare_exchange_strong(checked, now_ms)) {
    return; // checked lately, or another request is checking now
  }
  auto conn = redis.acquire();
  auto got = conn->query({"GET", keys::merchants_generation});
  if (!got) {
    return;
  }
  std::lock_guard<std::mutex> guard{cache_mtx_};
  if (got->text() != generation_) {
    cache_.clear();
    ++epoch_;
    generation_ = got->text();
  }
}

uint64_t api_context::merchant_cache_epoch() {
  std::lock_guard<std::mutex> guard{cache_mtx_};
  return epoch_;
}

std::optional<merchant_info>
api_context::cached_merchant(const std::string& key_hash) {
  std::lock_guard<std::mutex> guard{cache_mtx_};
  auto i = cache_.find(key_hash);
  if (i == cache_.end() || i->second.expires < std::chrono::steady_clock::now()) {
    return std::nullopt;
  }
  return i->second.info;
}

void api_context::cache_merchant(const std::string& key_hash,
                                 merchant_info info, uint64_t epoch,
                                 std::optional<int64_t> ttl_ms) {
  auto for_ms = std::min<int64_t>(settings.auth_cache_ms,
                                  ttl_ms.value_or(settings.auth_cache_ms));
  if (for_ms <= 0) {
    return;
  }
  std::lock_guard<std::mutex> guard{cache_mtx_};
  if (epoch != epoch_) {
    return; // read before the merchant's keys or fees changed
  }
  if (cache_.size() >= cache_entries_max) {
    cache_.clear();
  }
  cache_[key_hash] = cache_entry{
    std::move(info), std::chrono::steady_clock::now()
                       + std::chrono::milliseconds{for_ms}};
}

void api_context::mark_redis_state_lost(const std::string& reason) {
  std::lock_guard<std::mutex> guard{lost_mtx_};
  if (!redis_state_lost_) {
    redis_state_lost_ = reason;
    redis_state_lost_set_ = true;
  }
}

std::optional<std::string> api_context::redis_state_lost() const {
  // Every request asks: the lock only once it is set.
  if (!redis_state_lost_set_.load()) {
    return std::nullopt;
  }
  std::lock_guard<std::mutex> guard{lost_mtx_};
  return redis_state_lost_;
}

} // namespace psp::http
