#pragma once

// A lease in Redis: one holder at a time, identified by an owner token,
// expiring on its own when the holder dies (SET NX PX). Renew and release
// act only while the caller still owns it, so a holder that stalled past
// the expiry cannot release or extend a lease another process took since.

#include "adapters/redis/redis_connection.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace psp::reports {

class redis_lease {
public:
  /// `owner` must be unique per holder (node id plus a random part).
  redis_lease(std::string key, std::string owner, uint32_t ttl_ms)
    : key_(std::move(key)), owner_(std::move(owner)), ttl_ms_(ttl_ms) {
  }

  /// True when this call took the lease or we held it already (renewed);
  /// false when someone else holds it; nullopt when Redis failed.
  std::optional<bool> acquire(redis::connection& conn);

  /// True when still ours (and extended by ttl_ms).
  std::optional<bool> renew(redis::connection& conn);

  /// Deletes it if still ours.
  void release(redis::connection& conn);

  const std::string& key() const { return key_; }
  const std::string& owner() const { return owner_; }

private:
  std::string key_;
  std::string owner_;
  uint32_t ttl_ms_;
};

} // namespace psp::reports
