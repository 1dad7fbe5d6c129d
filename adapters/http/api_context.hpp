#pragma once

// What every HTTP handler shares: the Redis pool, the card vault, settings,
// the merchant key cache and counters for /metrics.

#include "adapters/card_network/network_counters.hpp"
#include "adapters/crypto/card_vault.hpp"
#include "adapters/http/claim_janitor.hpp"
#include "adapters/http/rate_limiter.hpp"
#include "adapters/redis/connection_pool.hpp"
#include "adapters/redis/delivery_counters.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace psp::http {

class operator_reports;

struct api_settings {
  std::string node_id;               ///< this node's id (cluster member name)
  std::string public_url;            ///< base of hosted page URLs
  std::string admin_token;           ///< empty: admin API disabled
  std::string id_secret;             ///< derives ids under Idempotency-Key
  std::string fingerprint_secret;    ///< keys request fingerprints
  size_t body_bytes_max = 64 * 1024;
  int64_t session_ttl_s = 24 * 3600; ///< default expires_at distance
  uint32_t auth_cache_ms = 30'000;
  int32_t default_fee_bps = 290;
  int64_t default_fee_fixed_minor = 30;
  uint32_t idempotency_lease_ms = 60'000; ///< a crashed claim frees after this
  /// This node's cluster registration key ("" outside a cluster): a claim
  /// whose node's registration lapsed frees before its lease ends.
  std::string registration_key;
  int64_t idempotency_ttl_s = 24 * 3600;  ///< stored answers kept this long
  /// How long confirm, capture, cancel and refund wait for the network's
  /// outcome before answering with the object as it stands (processing).
  uint32_t confirm_wait_ms = 3'000;
  /// API requests per second and merchant on this node (0: unlimited), and
  /// the burst allowed above it.
  uint32_t rate_limit_per_s = 0;
  uint32_t rate_limit_burst = 0;
  /// Queue an intent canceled through the API for the archive (the archive
  /// is on, decision 38).
  bool archive_canceled = false;
  /// Accept webhook endpoint URLs on loopback, private and link-local
  /// addresses (local development; decision 48).
  bool webhook_private_addresses = false;
};

struct merchant_info {
  std::string id;
  std::string name;
  int32_t fee_bps = 0;
  int64_t fee_fixed_minor = 0;
};

struct api_counters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> errors_4xx{0};
  std::atomic<uint64_t> errors_5xx{0};
  std::atomic<uint64_t> sessions_created{0};
  std::atomic<uint64_t> payments_submitted{0};
};

class api_context {
public:
  api_context(redis::connection_pool& pool, crypto::card_vault vault,
              api_settings settings)
    : redis(pool), vault(std::move(vault)), settings(std::move(settings)),
      limiter(this->settings.rate_limit_per_s,
              this->settings.rate_limit_burst),
      janitor(pool) {
  }

  redis::connection_pool& redis;
  const crypto::card_vault vault;
  const api_settings settings;
  api_counters counters;
  /// This node's webhook delivery outcomes (the delivery store counts
  /// them); set by the node before the server starts, null when not wired.
  std::shared_ptr<const redis::delivery_counters> deliveries;
  /// This node's calls to the card network, counted by its client; set by
  /// the node before the server starts, null when not wired.
  std::shared_ptr<const card::network_counters> network_calls;
  /// Reconciliation and statements (admin API); set by the node before the
  /// server starts, null when not wired.
  operator_reports* reports = nullptr;
  /// What this node's membership says, for /healthz and /metrics; set by
  /// the node before the server starts when it runs in a cluster, empty
  /// otherwise.
  struct cluster_status {
    /// The ids of the members it works with; nullopt: no answer.
    std::optional<std::vector<std::string>> members;
    /// Whether it holds the quorum (takes payment work); nullopt: no answer.
    std::optional<bool> quorum;
  };
  std::function<cluster_status()> cluster_state;
  rate_limiter limiter;
  /// Set on a stop signal for the drain (node_config drain_ms): /healthz
  /// answers 503 "draining" so a balancer takes the node out, and every
  /// answer closes its connection, while requests are still served.
  std::atomic<bool> draining{false};
  /// The node cannot write its Redis continuity mark (decision 67): a
  /// restart could no longer tell a Redis that lost data since.
  std::atomic<bool> continuity_mark_unwritable{false};
  /// Idempotency-Key writes given up on while Redis did not answer.
  claim_janitor janitor;

  /// Once Redis no longer holds what this node saw it acknowledge (decision
  /// 62: emptied, another data set, rolled back, or back without
  /// durability), every request but /healthz and /metrics answers 503 until
  /// the node restarts. Set once; the first reason stays.
  void mark_redis_state_lost(const std::string& reason);
  /// The reason, once marked.
  std::optional<std::string> redis_state_lost() const;

  /// Cached API key -> merchant (keys are looked up by their SHA-256).
  std::optional<merchant_info> cached_merchant(const std::string& key_hash);
  /// Counts the cache's drops: taken before a merchant is read from Redis
  /// and given to cache_merchant, it keeps a read from before a drop out.
  uint64_t merchant_cache_epoch();
  /// For auth_cache_ms, or `ttl_ms` when shorter (a rolled key's overlap
  /// that ends sooner); not when the cache was dropped since `epoch`.
  void cache_merchant(const std::string& key_hash, merchant_info info,
                      uint64_t epoch,
                      std::optional<int64_t> ttl_ms = std::nullopt);
  /// At most once a second (whichever request comes first): drops every
  /// cached merchant when keys::merchants_generation moved, so a revoked
  /// key or a fee change reaches this node within about a second, not the
  /// cache's 30 s. Redis failing keeps the cache as it is.
  void refresh_merchant_cache();

private:
  struct cache_entry {
    merchant_info info;
    std::chrono::steady_clock::time_point expires;
  };
  std::mutex cache_mtx_;
  std::unordered_map<std::string, cache_entry> cache_;
  std::string generation_;                        ///< under cache_mtx_
  uint64_t epoch_ = 0;                            ///< under cache_mtx_
  std::atomic<int64_t> generation_checked_ms_{0}; ///< steady clock
  mutable std::mutex lost_mtx_;
  std::optional<std::string> redis_state_lost_;   ///< under lost_mtx_
  std::atomic<bool> redis_state_lost_set_{false}; ///< read without the lock
};

} // namespace psp::http
