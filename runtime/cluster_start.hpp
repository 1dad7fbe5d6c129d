#pragma once

// Joins the cluster at start-up: publishes the payment router on the
// cluster port, checks the seeds, registers in Redis (refusing a duplicate
// node id) and starts the membership actor.

#include "runtime/node_config.hpp"

#include <caf/fwd.hpp>

#include <string>

namespace psp {

struct cluster_handles {
  caf::actor membership;
  caf::actor registry;
  std::string token; ///< this process's, in each of its registrations
};

/// Exit code on failure (4 cluster port in use, 5 duplicate node id, 6 no
/// seed reachable, 3 Redis), with `err`; 0 on success.
int start_cluster(caf::actor_system& sys, const node_config& cfg,
                  caf::actor router, caf::actor queue, caf::actor notifier,
                  cluster_handles& out,
                  std::string& err);

/// Removes our registration so peers drop us now rather than after the
/// TTL; not one another process holds under our id (`token`: ours).
void leave_cluster(const node_config& cfg, const std::string& token);

} // namespace psp
