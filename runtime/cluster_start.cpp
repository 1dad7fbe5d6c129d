#include "runtime/cluster_start.hpp"

#include "adapters/redis/cluster_registry.hpp"
#include "cluster/membership.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace psp {

namespace {

/// True if something accepts TCP connections at host:port within 1 s.
bool reachable(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    return false;
  }
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host_port.substr(0, colon).c_str(),
                  host_port.substr(colon + 1).c_str(), &hints, &res)
      != 0) {
    return false;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  ::connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  pollfd p{fd, POLLOUT, 0};
  bool ok = ::poll(&p, 1, 1000) == 1;
  int so_error = 0;
  socklen_t len = sizeof(so_error);
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
  ::close(fd);
  return ok && so_error == 0;
}

bool any_seed_reachable(const node_config& cfg, std::string& err) {
  if (cfg.seeds.empty()) {
    return true;
  }
  size_t start = 0;
  while (start <= cfg.seeds.size()) {
    auto comma = cfg.seeds.find(',', start);
    auto seed = cfg.seeds.substr(start, comma - start);
    if (!seed.empty() && reachable(seed)) {
      return true;
    }
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  err = "no seed in psp.seeds=" + cfg.seeds + " can be reached";
  return false;
}

/// Registers; a live registration by another process under our id is
/// waited out for one TTL (a restart right after a kill), then refused.
int join(caf::actor_system& sys, const node_config& cfg,
         const cluster_registry& registry, const std::string& address,
         std::string& registration, std::string& err) {
  caf::scoped_actor self{sys};
  auto deadline = std::chrono::steady_clock::now()
                  + std::chrono::milliseconds{cfg.heartbeat_ttl_ms + 1'000};
  for (;;) {
    int code = 0;
    self->request(registry, std::chrono::seconds{5}, join_atom::value,
                  cfg.node_id, address)
      .receive([&](std::string& value) { registration = std::move(value); },
               [&](caf::error& e) {
                 err = to_string(e);
                 code = err.find("DUPLICATE") != std::string::npos ? 5 : 3;
               });
    if (code == 0) {
      return 0;
    }
    if (code != 5 || std::chrono::steady_clock::now() > deadline) {
      if (code == 5) {
        err = "node id '" + cfg.node_id
              + "' is registered by another live node";
      }
      return code;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
}

} // namespace

int start_cluster(caf::actor_system& sys, const node_config& cfg,
                  caf::actor router, caf::actor queue, caf::actor notifier,
                  cluster_handles& out,
                  std::string& err) {
  if (!any_seed_reachable(cfg, err)) {
    return 6;
  }
  auto published = sys.middleman().publish(router, cfg.cluster_port,
                                           cfg.cluster_host.c_str(), true);
  if (!published) {
    err = "cannot publish on " + cfg.cluster_host + ":"
          + std::to_string(cfg.cluster_port) + " (port in use?): "
          + to_string(published.error());
    return 4;
  }
  auto address = cfg.cluster_host + ":" + std::to_string(*published);
  redis::registry_settings reg_cfg;
  reg_cfg.where = cfg.redis_endpoint();
  reg_cfg.timeout_ms = cfg.redis_timeout_ms;
  reg_cfg.ttl_ms = cfg.heartbeat_ttl_ms;
  auto registry = redis::spawn_cluster_registry(sys, reg_cfg);
  out.registry = caf::actor_cast<caf::actor>(registry);
  std::string registration;
  if (auto code = join(sys, cfg, registry, address, registration, err)) {
    return code;
  }
  membership_settings m;
  m.node_id = cfg.node_id;
  m.cluster_address = address;
  m.heartbeat_interval_ms = cfg.heartbeat_interval_ms;
  m.absent_grace_ms = cfg.heartbeat_ttl_ms;
  m.routes = cfg.cluster_peer_route_map;
  out.token = redis::registration_token(registration);
  out.membership = spawn_membership(sys, m, registry, router, queue,
                                    registration, notifier);
  return 0;
}

void leave_cluster(const node_config& cfg, const std::string& token) {
  redis::connection conn{cfg.redis_endpoint(),
                         cfg.redis_timeout_ms};
  // The mark tells peers the registration went on purpose (not lapsed in a
  // Redis stall), so their quorum stops counting us at once; a join clears it.
  if (redis::leave(conn, cfg.node_id, token) == false) {
    spdlog::warn("event=leave_skipped node={} (another process holds this "
                 "id's registration)", cfg.node_id);
  }
}

} // namespace psp
