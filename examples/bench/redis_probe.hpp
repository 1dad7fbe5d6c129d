// Reads Redis's own counters (INFO stats, commandstats, memory, cpu) over
// one hiredis connection. Each snapshot is one round trip of four pipelined
// INFO commands, so probing adds 4 commands and 1 read to what it measures.
#pragma once

#include "redis_info.hpp"

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

  const std::string& last_error() const { return last_error_; }

private:
  bool connect();
  void drop();

  std::string where_;
  redisContext* ctx_ = nullptr;
  std::string last_error_;
};

} // namespace bench
