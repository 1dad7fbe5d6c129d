#include "adapters/http/api_context.hpp"

namespace psp::http {

namespace {
constexpr size_t cache_entries_max = 10'000;
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
                                 merchant_info info) {
  std::lock_guard<std::mutex> guard{cache_mtx_};
  if (cache_.size() >= cache_entries_max) {
    cache_.clear();
  }
  cache_[key_hash] = cache_entry{
    std::move(info), std::chrono::steady_clock::now()
                       + std::chrono::milliseconds{settings.auth_cache_ms}};
}

} // namespace psp::http
