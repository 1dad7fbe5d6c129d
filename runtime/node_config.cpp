#include "runtime/node_config.hpp"

#include "actors/messages.hpp"

#include <caf/io/middleman.hpp>

#include "adapters/crypto/encoding.hpp"
#include "adapters/crypto/random_id.hpp"
#include "adapters/redis/redis_connection.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

namespace psp {

node_config::node_config() {
  add_message_types<caf::id_block::psp>();
  load<caf::io::middleman>();
  // CAF 0.17 defaults to max(4, cores) workers that poll every 50 us after
  // each job; on small machines that is pure overhead (measured in
  // docs/performance.md: -20..35 % CPU per payment). One worker per core;
  // an idle worker polls 1 ms apart for 10 ms only, then sleeps on its
  // condition variable, which a new job notifies at once (CAF's default
  // polls for 500 attempts: with our timers ticking, workers never got
  // there and an idle node burnt ~27 ms of CPU per second). All stay
  // overridable (ini, CLI).
  auto cores = std::max(1u, std::thread::hardware_concurrency());
  set("scheduler.max-threads", static_cast<size_t>(cores));
  set("work-stealing.moderate-sleep-duration",
      caf::timespan{std::chrono::milliseconds{1}});
  set("work-stealing.moderate-poll-attempts", size_t{10});
  opt_group{custom_options_, "psp"}
    .add(http_host, "http-host", "address the HTTP adapter listens on")
    .add(http_port, "http-port", "HTTP port (0: any free port)")
    .add(http_threads, "http-threads", "HTTP handler threads")
    .add(public_url, "public-url", "base URL of hosted pages")
    .add(redis, "redis", "Redis address host:port")
    .add(redis_user, "redis-user", "Redis ACL user (default: the default "
         "user; env PSP_REDIS_USER)")
    .add(redis_password, "redis-password", "Redis password (prefer env "
         "PSP_REDIS_PASSWORD: a flag shows in process listings)")
    .add(redis_timeout_ms, "redis-timeout-ms", "Redis connect/read timeout")
    .add(redis_durability, "redis-durability",
         "require|warn: refuse (exit 8) or only log a Redis without AOF "
         "fsync always or with key eviction")
    .add(card_network_url, "card-network-url", "card network base URL")
    .add(card_network_timeout_ms, "card-network-timeout-ms",
         "card network read timeout")
    .add(data_dir, "data-dir",
         "folder for the vault key file and the Redis continuity mark")
    .add(node_id, "node-id", "this node's name (consumer name in Redis)")
    .add(vault_key_hex, "vault-key", "AES-256 key, 64 hex chars")
    .add(admin_token, "admin-token", "bearer token of the admin API")
    .add(webhook_schedule, "webhook-schedule",
         "delays between webhook tries, e.g. 0s,5s,5m,30m")
    .add(webhook_timeout_ms, "webhook-timeout-ms", "webhook read timeout")
    .add(webhook_private_addresses, "webhook-private-addresses",
         "allow webhook endpoints on loopback, private and link-local "
         "addresses (local development only)")
    .add(log_level, "log-level", "trace|debug|info|warn|error")
    .add(card_connections, "card-connections",
         "card network connections (calls in flight)")
    .add(card_connections_min, "card-connections-min",
         "card network connections kept while calls barely overlap")
    .add(store_workers, "store-workers", "Redis connections for commits")
    .add(webhook_connections, "webhook-connections",
         "webhook connections per endpoint host")
    .add(network_tries_max, "network-tries-max",
         "card network tries before the dead-letter stream")
    .add(backoff_base_ms, "backoff-base-ms", "first retry delay")
    .add(backoff_max_ms, "backoff-max-ms", "largest retry delay")
    .add(reclaim_idle_ms, "reclaim-idle-ms",
         "stream entries idle this long at a consumer are taken over")
    .add(payment_idle_ms, "payment-idle-ms",
         "idle payment actors passivate after this long")
    .add(in_flight_max, "in-flight-max", "payments in flight per node")
    .add(cluster_host, "cluster-host", "address the cluster endpoint binds")
    .add(cluster_port, "cluster-port",
         "CAF cluster port (0: run alone, no membership)")
    .add(seeds, "seeds", "cluster endpoints host:port,... to check at start")
    .add(cluster_peer_routes, "cluster-peer-routes",
         "peer id=host:port,... dialed instead of the registered address")
    .add(heartbeat_interval_ms, "heartbeat-interval-ms",
         "how often this node renews its registration")
    .add(heartbeat_ttl_ms, "heartbeat-ttl-ms",
         "a node that missed beats this long is declared dead")
    .add(webhook_lease_ms, "webhook-lease-ms",
         "a claimed webhook delivery is retried if not recorded within this")
    .add(idempotency_lease_ms, "idempotency-lease-ms",
         "an Idempotency-Key claim left by a crash frees after this long")
    .add(idempotency_ttl_s, "idempotency-ttl-s",
         "stored idempotent answers are replayed for this long")
    .add(confirm_wait_ms, "confirm-wait-ms",
         "confirm/capture/cancel/refund wait this long for the outcome")
    .add(reconcile_interval_s, "reconcile-interval-s",
         "reconcile and write statements for each period this long "
         "(0: never)")
    .add(reconcile_grace_s, "reconcile-grace-s",
         "counterparts this far outside a period still match")
    .add(archive_after_s, "archive-after-s",
         "pack finished payments, refunds, ops and expired sessions into "
         "the compressed archive this long after they finished (-1: never)")
    .add(archive_interval_ms, "archive-interval-ms",
         "how often the archiver looks for payments to pack")
    .add(session_expiry_interval_ms, "session-expiry-interval-ms",
         "how often checkout sessions past expires_at are expired "
         "(0: never on this node)")
    .add(rate_limit_per_s, "rate-limit-per-s",
         "API requests per second per merchant on this node (0: no limit)")
    .add(rate_limit_burst, "rate-limit-burst",
         "requests allowed at once above the rate (0: one second's worth)")
    .add(event_retention_days, "event-retention-days",
         "GET /v1/events lists the events of this many days, as Stripe's "
         "(0: all for good); older ones stay retrievable by id")
    .add(drain_ms, "drain-ms",
         "on a stop signal, keep serving this long with /healthz 503 "
         "draining and connections closed after each answer (0: stop at "
         "once; a second signal ends the drain)");
}

bool parse_schedule(const std::string& text, std::vector<int64_t>& out) {
  out.clear();
  size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string::npos
                                     ? std::string::npos
                                     : comma - start);
    size_t digits = 0;
    while (digits < item.size() && isdigit(static_cast<unsigned char>(item[digits]))) {
      ++digits;
    }
    if (digits == 0 || digits > 9) {
      return false;
    }
    int64_t n = std::stoll(item.substr(0, digits));
    auto unit = item.substr(digits);
    int64_t ms_per = unit == "ms"  ? 1
                     : unit == "s" ? 1000
                     : unit == "m" ? 60'000
                     : unit == "h" ? 3'600'000
                                   : -1;
    if (ms_per < 0) {
      return false;
    }
    out.push_back(n * ms_per);
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return !out.empty() && out.size() <= 32;
}

namespace {

/// The vault key: flag, else env PSP_VAULT_KEY, else <data-dir>/vault.key
/// (created on first start, mode 0600).
bool resolve_vault_key(node_config& cfg, std::string& err) {
  if (cfg.vault_key_hex.empty()) {
    if (const char* env = std::getenv("PSP_VAULT_KEY")) {
      cfg.vault_key_hex = env;
    }
  }
  if (cfg.vault_key_hex.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(cfg.data_dir, ec);
    auto path = std::filesystem::path{cfg.data_dir} / "vault.key";
    std::ifstream in{path};
    if (!(in >> cfg.vault_key_hex)) {
      cfg.vault_key_hex = crypto::to_hex(crypto::random_bytes(32));
      std::ofstream out{path};
      out << cfg.vault_key_hex << '\n';
      if (!out) {
        err = "cannot write " + path.string();
        return false;
      }
      std::filesystem::permissions(path, std::filesystem::perms::owner_read
                                           | std::filesystem::perms::owner_write,
                                   ec);
    }
  }
  auto raw = crypto::from_hex(cfg.vault_key_hex);
  if (!raw || raw->size() != 32) {
    err = "psp.vault-key must be 64 hex characters (32 bytes)";
    return false;
  }
  return true;
}

} // namespace

redis::endpoint node_config::redis_endpoint() const {
  auto ep = *redis::parse_endpoint(redis); // checked by finish()
  ep.user = redis_user;
  ep.password = redis_password;
  redis::credentials_from_env(ep);
  return ep;
}

bool node_config::finish(std::string& err) {
  if (!redis::parse_endpoint(redis)) {
    // Not echoed when it holds '@': that part may be a password.
    err = redis.find('@') != std::string::npos
            ? "psp.redis must be host:port without credentials (give them "
              "in PSP_REDIS_USER and PSP_REDIS_PASSWORD)"
            : "psp.redis must be host:port, got '" + redis + "'";
    return false;
  }
  if (card_network_url.rfind("http://", 0) != 0
      && card_network_url.rfind("https://", 0) != 0) {
    err = "psp.card-network-url must start with http:// or https://";
    return false;
  }
  if (!parse_schedule(webhook_schedule, webhook_schedule_ms)) {
    err = "psp.webhook-schedule must be a list like 0s,5s,5m,2h (max 32)";
    return false;
  }
  if (http_threads < 2 || http_threads > 1024 || card_connections == 0
      || card_connections > 4096 || card_connections_min == 0
      || card_connections_min > card_connections || store_workers == 0
      || webhook_connections == 0 || webhook_connections > 1024
      || in_flight_max == 0) {
    err = "thread, worker and connection counts must be positive "
          "(http-threads 2..1024, card-connections up to 4096, "
          "card-connections-min up to card-connections, "
          "webhook-connections up to 1024)";
    return false;
  }
  if (redis_durability != "require" && redis_durability != "warn") {
    err = "psp.redis-durability must be require or warn";
    return false;
  }
  if (log_level != "trace" && log_level != "debug" && log_level != "info"
      && log_level != "warn" && log_level != "error") {
    err = "psp.log-level must be trace, debug, info, warn or error";
    return false;
  }
  if (heartbeat_ttl_ms < 2 * heartbeat_interval_ms
      || heartbeat_interval_ms < 50) {
    err = "psp.heartbeat-ttl-ms must be at least twice "
          "psp.heartbeat-interval-ms (>= 50)";
    return false;
  }
  if (webhook_lease_ms <= webhook_timeout_ms) {
    // A claim must outlive the HTTP attempt it covers, or another claimer
    // sends the same delivery while the first is still waiting.
    err = "psp.webhook-lease-ms must be larger than psp.webhook-timeout-ms";
    return false;
  }
  if (idempotency_lease_ms < 1'000 || idempotency_ttl_s < 60) {
    err = "psp.idempotency-lease-ms must be >= 1000 and "
          "psp.idempotency-ttl-s >= 60";
    return false;
  }
  if (reconcile_interval_s < 0 || reconcile_interval_s > 31 * 86'400
      || reconcile_grace_s < 0 || reconcile_grace_s > 86'400) {
    err = "psp.reconcile-interval-s must be 0..2678400 and "
          "psp.reconcile-grace-s 0..86400";
    return false;
  }
  if (archive_after_s < -1 || archive_after_s > 366 * 86'400
      || archive_interval_ms < 10 || archive_interval_ms > 3'600'000) {
    err = "psp.archive-after-s must be -1..31622400 and "
          "psp.archive-interval-ms 10..3600000";
    return false;
  }
  if (event_retention_days > 36'500) {
    err = "psp.event-retention-days must be 0..36500";
    return false;
  }
  if (drain_ms > 600'000) {
    err = "psp.drain-ms must be 0..600000";
    return false;
  }
  if (session_expiry_interval_ms > 3'600'000) {
    err = "psp.session-expiry-interval-ms must be 0..3600000";
    return false;
  }
  std::string routes_err;
  if (!parse_peer_routes(cluster_peer_routes, cluster_peer_route_map,
                         routes_err)) {
    err = "psp.cluster-peer-routes must be id=host:port,...: " + routes_err;
    return false;
  }
  if (!cluster_peer_route_map.empty()
      && caf::get_or(*this, "middleman.enable-automatic-connections", false)) {
    // CAF would open direct connections around the routes (a proxy).
    err = "psp.cluster-peer-routes needs "
          "middleman.enable-automatic-connections=false";
    return false;
  }
  if (node_id.empty()) {
    node_id = "node-" + std::to_string(::getpid());
  }
  if (admin_token.empty()) {
    if (const char* env = std::getenv("PSP_ADMIN_TOKEN")) {
      admin_token = env;
    }
  }
  return resolve_vault_key(*this, err);
}

} // namespace psp
