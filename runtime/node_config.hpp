#pragma once

// The node's configuration in one place: every option with a default, a unit
// in its name and a help text, from caf-application.ini or --psp.* flags,
// validated once at start-up.

#include "adapters/redis/redis_connection.hpp"
#include "cluster/peer_routes.hpp"

#include <caf/actor_system_config.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace psp {

class node_config : public caf::actor_system_config {
public:
  node_config();

  std::string http_host = "127.0.0.1";
  uint16_t http_port = 8080;
  /// cpp-httplib holds one thread per open connection, idle keep-alive
  /// ones included (up to 2 s): threads, not CPU, bound how many clients
  /// (browsers on the hosted page) a node serves at once.
  size_t http_threads = 256;
  std::string public_url;          ///< default: http://<http-host>:<port>
  std::string redis = "127.0.0.1:6379";
  /// Redis AUTH; default: env PSP_REDIS_USER / PSP_REDIS_PASSWORD (the
  /// environment keeps the password out of process listings).
  std::string redis_user;
  std::string redis_password;
  uint32_t redis_timeout_ms = 2'000;
  /// "require": refuse to start on a Redis that would lose acknowledged
  /// payments (no AOF, no fsync per write, evicting keys); "warn": log it
  /// and start (a scratch stack). adapters/redis/durability_check.hpp.
  std::string redis_durability = "require";
  std::string card_network_url = "http://127.0.0.1:4010";
  uint32_t card_network_timeout_ms = 10'000;
  std::string data_dir = "run/data";
  std::string node_id;             ///< default: node-<pid>
  std::string vault_key_hex;       ///< default: env PSP_VAULT_KEY or a file
  std::string admin_token;         ///< default: env PSP_ADMIN_TOKEN
  std::string webhook_schedule = "0s,5s,5m,30m,2h,5h,10h,14h,20h,24h";
  uint32_t webhook_timeout_ms = 10'000;
  /// Webhook endpoints may be on loopback, private and link-local
  /// addresses: only for stacks where everything runs on one machine (the
  /// demo, tests, benchmarks). Off, a merchant cannot make the node POST
  /// into the operator's network (decision 48).
  bool webhook_private_addresses = false;
  std::string log_level = "info";
  size_t card_connections = 64;
  size_t card_connections_min = 8;
  size_t store_workers = 8;
  size_t webhook_connections = 8;
  uint32_t network_tries_max = 20;
  uint32_t backoff_base_ms = 200;
  uint32_t backoff_max_ms = 30'000;
  uint32_t reclaim_idle_ms = 30'000;
  uint32_t payment_idle_ms = 2'000;
  uint32_t in_flight_max = 512;
  uint32_t idempotency_lease_ms = 60'000;
  uint32_t webhook_lease_ms = 60'000;
  std::string cluster_host = "127.0.0.1";
  uint16_t cluster_port = 0;       ///< 0: no cluster (single node)
  std::string seeds;               ///< host:port,... checked at start-up
  /// "id=host:port,...": dial these peers there instead of their registered
  /// address (a fault-injecting proxy); empty: no overrides.
  std::string cluster_peer_routes;
  uint32_t heartbeat_interval_ms = 500;
  uint32_t heartbeat_ttl_ms = 2'500;
  int64_t idempotency_ttl_s = 24 * 3600;
  uint32_t confirm_wait_ms = 3'000;
  /// Scheduled reconciliation and statements: period length (0: off).
  int64_t reconcile_interval_s = 3'600;
  /// How far outside a period a counterpart still matches; a period is
  /// reconciled only once this long has passed after its end.
  int64_t reconcile_grace_s = 300;
  /// A paid charge (or a refund) is packed into the archive this long after
  /// it finished and its webhooks went out (docs/decisions.md 38); -1:
  /// never archive. Ten minutes: what is live is the rate times this.
  int64_t archive_after_s = 600;
  uint32_t archive_interval_ms = 1'000;
  /// How often this node sweeps checkout sessions past their expires_at
  /// (0: never; another node's sweep, or the lazy read, covers them).
  uint32_t session_expiry_interval_ms = 1'000;
  uint32_t rate_limit_per_s = 0;
  uint32_t rate_limit_burst = 0;
  /// On SIGTERM/SIGINT, how long the node keeps serving while /healthz
  /// says "draining" and every answer closes its connection, before it
  /// stops listening: a load balancer's health-check interval times its
  /// failure threshold takes the node out first. 0: stop at once.
  uint32_t drain_ms = 0;
  /// GET /v1/events lists the events of this many days, as Stripe's 30
  /// (event_retention.hpp); 0: every event for good.
  uint32_t event_retention_days = 30;

  /// Checks values and fills defaults; false with a message on error.
  bool finish(std::string& err);

  /// `redis` with the credentials: where every connection of the node goes.
  redis::endpoint redis_endpoint() const;

  /// The parsed webhook schedule (delays in ms between tries).
  std::vector<int64_t> webhook_schedule_ms;

  /// The parsed cluster-peer-routes.
  peer_routes cluster_peer_route_map;
};

/// Parses "0s,5s,5m,2h,250ms" into milliseconds; false on a bad item.
bool parse_schedule(const std::string& text, std::vector<int64_t>& out);

} // namespace psp
