// Parsing of Redis INFO text and the difference of two snapshots: how many
// client round trips (read events), commands and bytes of memory a phase of
// the benchmark cost. Pure functions; redis_probe does the I/O.
//
// What Redis 7.0 counts (checked with MONITOR, see docs/performance.md):
// `total_commands_processed` and `INFO commandstats` both count the commands
// a Lua script runs with redis.call as well as the EVAL/EVALSHA itself, and
// each command queued in MULTI once. `total_reads_processed` counts read
// events on client sockets: one per request batch (a pipeline sent in one
// write is one read), which is what a client waits for, i.e. round trips.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace bench {

struct redis_snapshot {
  double unix_s = 0;
  uint64_t reads = 0;       ///< total_reads_processed
  uint64_t commands = 0;    ///< total_commands_processed
  int64_t used_memory = 0;  ///< bytes, INFO memory used_memory
  double cpu_s = 0;         ///< used_cpu_user + used_cpu_sys (INFO cpu)
  std::map<std::string, uint64_t> calls; ///< commandstats: name -> calls
};

/// "key:value" lines of an INFO reply (sections, comments skipped).
std::map<std::string, std::string> parse_info(const std::string& text);

/// `cmdstat_<name>:calls=N,...` lines -> name -> N.
std::map<std::string, uint64_t> parse_commandstats(const std::string& text);

/// Fills a snapshot from the text of INFO stats, commandstats, memory and
/// cpu (the same text may be passed for all).
redis_snapshot make_snapshot(const std::string& stats_text,
                             const std::string& commandstats_text,
                             const std::string& memory_text,
                             const std::string& cpu_text, double unix_s);

struct redis_delta {
  double elapsed_s = 0;
  int64_t reads = 0;
  int64_t commands = 0;
  int64_t memory_bytes = 0;
  double cpu_s = 0;
  std::map<std::string, int64_t> calls; ///< only commands that changed
};

redis_delta diff(const redis_snapshot& before, const redis_snapshot& after);

/// The phase's cost per item (payment, session), with the idle background
/// traffic (`idle_*_per_s` over the phase's duration) taken out.
nlohmann::json per_item_json(const redis_delta& d, uint64_t items,
                             double idle_reads_per_s,
                             double idle_commands_per_s);

} // namespace bench
