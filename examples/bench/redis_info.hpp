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
  /// Bytes of the databases' key tables (MEMORY STATS: overhead.hashtable
  /// main + expires, both tables while one is being resized).
  int64_t key_table_bytes = 0;
  uint64_t keys = 0;        ///< INFO keyspace: keys in every database
};

/// "key:value" lines of an INFO reply (sections, comments skipped).
std::map<std::string, std::string> parse_info(const std::string& text);

/// `cmdstat_<name>:calls=N,...` lines -> name -> N.
std::map<std::string, uint64_t> parse_commandstats(const std::string& text);

/// Keys in all databases of an INFO keyspace text (`db0:keys=N,...`).
uint64_t parse_keyspace_keys(const std::string& text);

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
  /// Of memory_bytes, what the key tables grew by: a table doubles when the
  /// keys outgrow it, so a phase holds a whole resize or none.
  int64_t key_table_bytes = 0;
  int64_t keys = 0;
  /// The key tables' bytes per key at the end (a table's size over time,
  /// as it doubles: between 8 and 16 B a key and its expiry).
  double key_table_bytes_per_key = 0;
  double cpu_s = 0;
  std::map<std::string, int64_t> calls; ///< only commands that changed
};

redis_delta diff(const redis_snapshot& before, const redis_snapshot& after);

/// Memory per item with the key tables' share amortized: the delta without
/// the tables' growth, plus the keys the items added times the tables'
/// bytes per key. Steady from run to run, where the raw delta jumps by
/// hundreds of bytes an item when a resize falls inside the phase.
double amortized_memory_per_item(const redis_delta& d, uint64_t items);

/// The phase's cost per item (payment, session), with the idle background
/// traffic (`idle_*_per_s` over the phase's duration) taken out.
nlohmann::json per_item_json(const redis_delta& d, uint64_t items,
                             double idle_reads_per_s,
                             double idle_commands_per_s);

} // namespace bench
