// A node's threads grouped by name (the node names them: psp.http,
// psp.store, caf.worker, ...): CPU time and context switches summed per
// name from /proc/<pid>/task/*. The difference between two samples, per
// payment, says which kind of thread spends a payment's CPU and wake-ups,
// and how that changes when three nodes share the cores (docs/performance.md).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace bench {

/// utime and stime (fields 14 and 15, clock ticks) of a /proc `stat` line
/// of a process or a thread; nullopt when the line does not parse.
struct stat_ticks {
  double user = 0;
  double system = 0;
};
std::optional<stat_ticks> parse_stat_ticks(const std::string& stat_line);

struct thread_group {
  double cpu_s = 0;
  double voluntary_switches = 0;   ///< it blocked: a wake-up later
  double involuntary_switches = 0; ///< preempted
};

using thread_groups = std::map<std::string, thread_group>;

/// Adds one thread to its name's group, from its /proc `stat` line and
/// `status` text; false (nothing added) when either does not parse.
bool add_thread(thread_groups& into, const std::string& name,
                const std::string& stat_line, const std::string& status,
                double ticks_per_s);

/// Per item between two samples, by name: {cpu_ms, voluntary_switches,
/// involuntary_switches}. A group that shrank (threads ended) counts zero.
nlohmann::json thread_groups_per_item(const thread_groups& before,
                                      const thread_groups& after,
                                      uint64_t items);

} // namespace bench
