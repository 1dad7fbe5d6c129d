// CPU time per item of the processes under test, from /proc (nodes, card
// network simulator), getrusage (this driver) and, passed in, Redis's own
// INFO cpu; plus how busy the whole machine was meanwhile, so a run that
// shared the machine with other work says so.
#pragma once

#include "rss_sampler.hpp"
#include "thread_groups.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

namespace bench {

/// CPU seconds used so far by the processes under test.
struct cpu_mark {
  machine_cpu machine;
  double nodes_user = 0;
  double nodes_system = 0;
  double card_network = 0;
  double driver = 0;
  thread_groups node_threads; ///< all nodes' threads, by name
};

cpu_mark cpu_now(const std::vector<int>& node_pids, int sim_pid);

/// CPU milliseconds per item between two marks, by process; `redis_cpu_s`
/// is the INFO cpu difference over the same interval.
nlohmann::json cpu_per_item(const cpu_mark& a, const cpu_mark& b,
                            double redis_cpu_s, uint64_t items);

} // namespace bench
