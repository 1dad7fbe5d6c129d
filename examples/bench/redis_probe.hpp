// Reads Redis's own counters (INFO stats, commandstats, memory, cpu,
// keyspace, and MEMORY STATS for the key tables) over one hiredis
// connection. Each snapshot is one round trip of six pipelined commands, so
// probing adds 6 commands and 1 read to what it measures.
#pragma once

#include "redis_info.hpp"

#include <map>
#include <optional>
#include <string>

struct redisContext;

namespace bench {

class redis_probe {
public:
  /// `where` is "host:port"; connects lazily, 2 s timeouts.
  explicit redis_probe(std::string where);
  ~redis_probe();
  redis_probe(const redis_probe&) = delete;
  redis_probe& operator=(const redis_probe&) = delete;

  std::optional<redis_snapshot> snapshot();

  /// Rewrites the AOF now (BGREWRITEAOF) and waits until no rewrite runs or
  /// is scheduled, at most `timeout_s`. Before a measured phase: Redis
  /// rewrites automatically each time the AOF doubles, which on the bench's
  /// young dataset lands inside some phases and not others. nullopt on
  /// failure or timeout; else the number of rewrites done since start-up.
  std::optional<uint64_t> compact_aof(int timeout_s);

  /// Rewrites done since start-up (INFO persistence), nullopt on failure.
  std::optional<uint64_t> aof_rewrites();

  const std::string& last_error() const { return last_error_; }

private:
  bool connect();
  void drop();
  /// INFO persistence as fields; nullopt (and last_error) on failure.
  std::optional<std::map<std::string, std::string>> persistence();

  std::string where_;
  redisContext* ctx_ = nullptr;
  std::string last_error_;
};

} // namespace bench
