#include "runtime/node.hpp"

#include "runtime/archiver.hpp"
#include "runtime/cluster_start.hpp"
#include "runtime/event_retention.hpp"
#include "runtime/continuity_mark_file.hpp"
#include "runtime/continuity_watch.hpp"
#include "runtime/redis_start_checks.hpp"
#include "runtime/report_service.hpp"
#include "runtime/report_wiring.hpp"
#include "runtime/session_expirer.hpp"

#include "actors/clock.hpp"
#include "actors/dead_letter.hpp"
#include "actors/errors.hpp"
#include "actors/notification_queue.hpp"
#include "actors/payment_queue.hpp"
#include "actors/payment_router.hpp"
#include "actors/watchdog.hpp"
#include "adapters/card_network/card_network_client.hpp"
#include "adapters/crypto/card_vault.hpp"
#include "adapters/crypto/digest.hpp"
#include "adapters/crypto/encoding.hpp"
#include "adapters/http/api_server.hpp"
#include "adapters/http/idempotency.hpp"
#include "adapters/redis/cluster_registry.hpp"
#include "adapters/redis/connection_pool.hpp"
#include "adapters/redis/legacy_stream.hpp"
#include "adapters/redis/store_actors.hpp"
#include "adapters/thread_name.hpp"
#include "adapters/webhook/webhook_sender.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>
#include <unistd.h>

namespace psp {

namespace {

int64_t wall_clock_ms() {
  return unix_now_ms();
}

struct node_actors {
  /// Every long-lived actor by name (for the watchdog), in stop order.
  std::vector<std::pair<std::string, caf::actor>> all;
  caf::actor router;
  caf::actor queue;
  caf::actor notifier;
  template <class Handle>
  void add(const char* name, const Handle& h) {
    all.emplace_back(name, caf::actor_cast<caf::actor>(h));
  }
};

node_actors start_actors(caf::actor_system& sys, const node_config& cfg,
                         const redis::endpoint& where,
                         const crypto::card_vault& vault,
                         std::shared_ptr<redis::delivery_counters> counted,
                         std::shared_ptr<card::network_counters> calls) {
  node_actors out;
  redis::store_settings store_cfg;
  store_cfg.deliveries = std::move(counted);
  store_cfg.where = where;
  store_cfg.timeout_ms = cfg.redis_timeout_ms;
  store_cfg.consumer = cfg.node_id;
  store_cfg.reclaim_idle_ms = cfg.reclaim_idle_ms;
  store_cfg.delivery_lease_ms = cfg.webhook_lease_ms;
  store_cfg.archive_paid = cfg.archive_after_s >= 0;
  auto store = redis::spawn_payment_store(sys, store_cfg, cfg.store_workers);
  auto stream = redis::spawn_payment_stream(sys, store_cfg);
  auto deliveries = redis::spawn_delivery_store(sys, store_cfg, 2);
  card::client_settings card_cfg;
  card_cfg.base_url = cfg.card_network_url;
  card_cfg.read_timeout_ms = cfg.card_network_timeout_ms;
  card_cfg.connections = cfg.card_connections;
  card_cfg.connections_min = cfg.card_connections_min;
  auto network = card::spawn_card_network_client(sys, card_cfg, vault,
                                                 std::move(calls));
  webhook::sender_settings hook_cfg;
  hook_cfg.read_timeout_ms = cfg.webhook_timeout_ms;
  // What the claim's lease leaves beyond the exchange (50 s by default):
  // half for a wait for a connection, a tenth as the margin of the send's
  // own deadline, the rest for retrying a failed record (below), so that
  // wait + exchange + margin + record retries fit in the lease.
  auto slack_ms = cfg.webhook_lease_ms - cfg.webhook_timeout_ms;
  hook_cfg.wait_max_ms = slack_ms / 2;
  auto send_margin_ms = slack_ms / 10;
  hook_cfg.connections_per_endpoint = cfg.webhook_connections;
  hook_cfg.private_addresses_allowed = cfg.webhook_private_addresses;
  auto sender = webhook::spawn_webhook_sender(sys, hook_cfg);
  notification_limits notify_limits;
  notify_limits.schedule_ms = cfg.webhook_schedule_ms;
  notify_limits.wait_for_registration = cfg.cluster_port != 0;
  notify_limits.send_timeout_ms =
    hook_cfg.wait_max_ms + cfg.webhook_timeout_ms + send_margin_ms;
  // Retrying a failed record longer than what the send left of the lease
  // could overlap another node's claim.
  notify_limits.record_retry_window_ms =
    cfg.webhook_lease_ms - notify_limits.send_timeout_ms;
  auto notifier = spawn_notification_queue(sys, deliveries, sender,
                                           notify_limits, cfg.node_id,
                                           wall_clock_ms);
  auto dead = spawn_dead_letter(sys, store);
  payment_limits limits;
  limits.network_tries_max = cfg.network_tries_max;
  limits.backoff_base_ms = cfg.backoff_base_ms;
  limits.backoff_max_ms = cfg.backoff_max_ms;
  limits.idle_ms = cfg.payment_idle_ms;
  auto router = spawn_payment_router(sys, {store, network, dead, notifier},
                                     limits, supervisor_limits{});
  payment_queue_limits queue_limits;
  queue_limits.in_flight_max = cfg.in_flight_max;
  queue_limits.wait_for_quorum = cfg.cluster_port != 0;
  auto queue = spawn_payment_queue(sys, stream, router, queue_limits);
  out.router = router;
  out.queue = queue;
  out.notifier = notifier;
  // Stop order: intake first, then workers, then the ports.
  out.add("payment_queue", queue);
  out.add("notification_queue", notifier);
  out.add("payment_router", router);
  out.add("dead_letter", dead);
  out.add("payment_stream", stream);
  out.add("payment_store", store);
  out.add("delivery_store", deliveries);
  out.add("card_network", network);
  out.add("webhook_sender", sender);
  return out;
}

void configure_logging(const node_config& cfg) {
  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  // One line per event: time, level, node, then key=value pairs.
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ level=%l node=" + cfg.node_id
                        + " %v",
                      spdlog::pattern_time_type::utc);
}

} // namespace

int run_node(node_config& cfg) {
  // Block the stop signals before any thread starts (the HTTP adapter's
  // claim janitor, CAF's), so only the sigwait below receives them: a
  // thread started unblocked took a SIGTERM sent while the node was
  // stopped as its default action, killing it without a clean stop (the
  // re-test). One sent during start-up waits for the sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  configure_logging(cfg);
  auto where = cfg.redis_endpoint();
  redis::connection probe{where, cfg.redis_timeout_ms};
  std::string err;
  auto unusable = [&] {
    std::cerr << "psp-node: cannot use Redis at " << cfg.redis << ": "
              << (err.empty() ? probe.last_error() : err) << '\n';
    return 3;
  };
  if (!probe.ensure_connected()) {
    return unusable();
  }
  if (auto code = redis_start_checks(probe, cfg); code != 0) {
    return code;
  }
  if (!redis::ensure_stream_groups(probe, err)) {
    return unusable();
  }
  if (!redis::migrate_legacy_payment_stream(probe, err)) {
    // Left for the next start; the jobs stay where they are, nothing lost.
    spdlog::error("event=legacy_payment_stream_not_migrated error=\"{}\"",
                  err);
  }
  auto vault = crypto::card_vault::from_hex_key(cfg.vault_key_hex);
  redis::connection_pool pool{where, cfg.redis_timeout_ms, cfg.http_threads};
  http::api_settings api_cfg;
  api_cfg.node_id = cfg.node_id;
  api_cfg.public_url = cfg.public_url;
  api_cfg.admin_token = cfg.admin_token;
  // Shared by every node (like the vault key it derives from), so a request
  // re-run on another node names the same objects.
  auto vault_key = *crypto::from_hex(cfg.vault_key_hex);
  api_cfg.id_secret = crypto::hmac_sha256(vault_key, "psp object ids");
  api_cfg.fingerprint_secret = http::fingerprint_secret(vault_key);
  api_cfg.idempotency_lease_ms = cfg.idempotency_lease_ms;
  if (cfg.cluster_port != 0) {
    api_cfg.registration_key = redis::node_registration_key(cfg.node_id);
  }
  api_cfg.idempotency_ttl_s = cfg.idempotency_ttl_s;
  api_cfg.rate_limit_per_s = cfg.rate_limit_per_s;
  api_cfg.rate_limit_burst = cfg.rate_limit_burst;
  // A waiting request should answer while it still holds its key's lease.
  api_cfg.confirm_wait_ms = std::min(cfg.confirm_wait_ms,
                                     cfg.idempotency_lease_ms / 2);
  api_cfg.archive_canceled = cfg.archive_after_s >= 0;
  api_cfg.webhook_private_addresses = cfg.webhook_private_addresses;
  http::api_context ctx{pool, *vault, api_cfg};
  auto delivery_counts = std::make_shared<redis::delivery_counters>();
  ctx.deliveries = delivery_counts;
  auto network_calls = std::make_shared<card::network_counters>();
  ctx.network_calls = network_calls;
  report_service reports{pool, report_settings(cfg, "admin_api")};
  ctx.reports = &reports;
  http::server_settings srv_cfg{cfg.http_host, cfg.http_port, cfg.http_threads};
  http::api_server server{ctx, srv_cfg};
  if (!server.bind(err)) {
    std::cerr << "psp-node: " << err << '\n';
    return 4;
  }
  if (cfg.public_url.empty()) {
    // Known only now when the port was chosen by the OS.
    const_cast<std::string&>(ctx.settings.public_url)
      = "http://" + cfg.http_host + ":" + std::to_string(server.port());
  }
  int exit_code = 0;
  {
    caf::actor_system sys{cfg};
    auto actors = start_actors(sys, cfg, where, *vault, delivery_counts,
                               network_calls);
    cluster_handles cluster;
    if (cfg.cluster_port != 0) {
      if (auto code = start_cluster(sys, cfg, actors.router, actors.queue,
                                    actors.notifier, cluster, err)) {
        std::cerr << "psp-node: " << err << '\n';
        for (auto& [name, a] : actors.all) {
          caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
        }
        return code;
      }
      actors.all.insert(actors.all.begin(),
                        {{"membership", cluster.membership},
                         {"cluster_registry", cluster.registry}});
      ctx.cluster_state = [&sys, membership = cluster.membership] {
        http::api_context::cluster_status out;
        caf::scoped_actor self{sys};
        self->request(membership, std::chrono::seconds{1}, members_atom::value)
          .receive([&](std::vector<std::string>& ids) { out.members = ids; },
                   [](caf::error&) {});
        self->request(membership, std::chrono::seconds{1}, quorum_atom::value)
          .receive([&](bool holds) { out.quorum = holds; }, [](caf::error&) {});
        return out;
      };
    }
    // Its own thread and Redis connection: blocking reads stay off CAF.
    recon_scheduler scheduler{scheduler_settings_of(cfg, where)};
    scheduler.start();
    std::optional<archiver> packer;
    if (cfg.archive_after_s >= 0) {
      archiver_settings archive_cfg;
      archive_cfg.where = where;
      archive_cfg.redis_timeout_ms = cfg.redis_timeout_ms;
      archive_cfg.after_ms = cfg.archive_after_s * 1000;
      archive_cfg.interval_ms = cfg.archive_interval_ms;
      packer.emplace(archive_cfg);
      packer->start();
    }
    std::optional<session_expirer> expirer;
    if (cfg.session_expiry_interval_ms > 0) {
      session_expirer_settings expiry_cfg;
      expiry_cfg.where = where;
      expiry_cfg.redis_timeout_ms = cfg.redis_timeout_ms;
      expiry_cfg.interval_ms = cfg.session_expiry_interval_ms;
      expiry_cfg.queue_for_archive = cfg.archive_after_s >= 0;
      expirer.emplace(expiry_cfg);
      expirer->start();
    }
    continuity_watch_settings continuity_cfg;
    continuity_cfg.where = where;
    continuity_cfg.redis_timeout_ms = cfg.redis_timeout_ms;
    continuity_cfg.enforce = cfg.redis_durability == "require";
    continuity_cfg.mark_path = continuity_mark_path(cfg.data_dir);
    continuity_cfg.node_id = cfg.node_id;
    continuity_cfg.on_lost = [&ctx](const std::string& reason) {
      ctx.mark_redis_state_lost(reason);
    };
    continuity_cfg.on_mark_written = [&ctx](bool written) {
      ctx.continuity_mark_unwritable = !written;
    };
    // Shared with the check of every new Redis connection, which other
    // threads run until it is cleared at the stop.
    auto continuity = std::make_shared<continuity_watch>(continuity_cfg);
    continuity->adopt(); // or its first round, if Redis did not answer now
    redis::set_connect_check([continuity](redis::connection& conn) {
      return continuity->check_connection(conn);
    });
    continuity->start();
    std::optional<event_retention> retention;
    if (cfg.event_retention_days > 0) {
      event_retention_settings retention_cfg;
      retention_cfg.where = where;
      retention_cfg.redis_timeout_ms = cfg.redis_timeout_ms;
      retention_cfg.retention_days = cfg.event_retention_days;
      retention.emplace(retention_cfg);
      retention->start();
    }
    // An actor gone while the node runs: log it and stop the node as on
    // SIGTERM (leaving the cluster, so the peers take its partitions), with
    // exit code 7, or 5 when the membership found our id taken by another
    // process (as a duplicate id is refused at start). The stop signals are
    // blocked in every thread, so the raised one waits for the sigwait
    // below.
    std::atomic<bool> actor_failed{false};
    std::atomic<int> failure_exit_code{7};
    auto watchdog = spawn_watchdog(
      sys, actors.all,
      [&actor_failed, &failure_exit_code](const std::string& name,
                                          const caf::error& reason) {
        spdlog::critical("event=actor_down actor={} reason=\"{}\" "
                         "action=stopping_node", name, to_string(reason));
        if (is_error(reason, errc::node_id_taken)) {
          failure_exit_code = 5;
        }
        actor_failed = true;
        ::kill(::getpid(), SIGTERM);
      });
    std::thread http_thread{[&] {
      // cpp-httplib starts its pool from here: one thread per open
      // connection, all of them then named after this one.
      name_this_thread("psp.http");
      server.serve();
    }};
    spdlog::info("event=node_started http={}:{} redis={} card_network={}",
                 cfg.http_host, server.port(), cfg.redis, cfg.card_network_url);
    if (cfg.webhook_private_addresses) {
      // Fine where every endpoint is on this machine; an SSRF hole on a
      // node that serves merchants (decision 48).
      spdlog::warn("event=webhook_private_addresses_allowed");
    }
    // run.sh waits for these lines and reads the endpoints from them. Each
    // goes out in one write: piece by piece, a log line from another thread
    // (spdlog shares stdout) could land inside one.
    auto announce = [](const std::string& line) {
      std::cout << line + "\n" << std::flush;
    };
    if (cfg.cluster_port != 0) {
      announce("psp-node " + cfg.node_id + " cluster endpoint "
               + cfg.cluster_host + ":" + std::to_string(cfg.cluster_port));
    }
    announce("psp-node " + cfg.node_id + " listening on " + cfg.http_host + ":"
             + std::to_string(server.port()));
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (cfg.drain_ms > 0 && !actor_failed) {
      // Still a full member serving requests: only the balancer is told.
      ctx.draining = true;
      spdlog::info("event=node_draining signal={} drain_ms={}", sig,
                   cfg.drain_ms);
      timespec drain{static_cast<time_t>(cfg.drain_ms / 1000),
                     static_cast<long>(cfg.drain_ms % 1000) * 1'000'000L};
      while (sigtimedwait(&stop_signals, nullptr, &drain) < 0
             && errno == EINTR) {
      }
    }
    spdlog::info("event=node_stopping signal={}", sig);
    {
      // First, so that the actors stopped below do not look like failures.
      caf::scoped_actor self{sys};
      self->send_exit(watchdog, caf::exit_reason::user_shutdown);
      self->wait_for(watchdog);
    }
    if (actor_failed) {
      exit_code = failure_exit_code;
    }
    if (cfg.cluster_port != 0) {
      // Membership first: a heartbeat tick after the DEL would register
      // this node again, a ghost its peers count for one TTL.
      caf::scoped_actor self{sys};
      self->send_exit(cluster.membership, caf::exit_reason::user_shutdown);
      self->send_exit(cluster.registry, caf::exit_reason::user_shutdown);
      self->wait_for(cluster.membership, cluster.registry);
      leave_cluster(cfg, cluster.token);
    }
    server.stop();
    http_thread.join();
    ctx.cluster_state = nullptr; // refers to the actor system
    continuity->stop();
    redis::set_connect_check({});
    scheduler.stop();
    if (packer) {
      packer->stop();
    }
    if (expirer) {
      expirer->stop();
    }
    if (retention) {
      retention->stop();
    }
    for (auto& [name, a] : actors.all) {
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    }
  }
  spdlog::info("event=node_stopped");
  return exit_code;
}

} // namespace psp
