#pragma once

// What the PSP assumes of its Redis, checked when a node starts. Every
// answer the API gives (a 2xx, a stream ACK, a "done") promises that the
// state behind it survives a crash of Redis or of its machine: that holds
// only with the AOF on and fsynced before each write is acknowledged, and
// with no eviction of keys when memory runs out (an evicted payment or
// idempotency key is lost or charged twice). A Redis older than 6.2 lacks
// XAUTOCLAIM, by which a dead node's payments are taken over. Memory
// settings that only change how compactly objects are stored are warnings.

#include "adapters/redis/redis_connection.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace psp::redis {

/// The settings read, by name.
using redis_settings = std::map<std::string, std::string>;

struct settings_finding {
  /// True when the setting breaks durability or takeover (the node refuses
  /// to start unless told to only warn); false for memory-only advice.
  bool breaks_durability = false;
  std::string setting;
  std::string text; ///< what is wrong and what to set, one line
};

/// The names read by read_redis_settings().
const std::vector<std::string>& checked_setting_names();

/// CONFIG GET of checked_setting_names(), and `redis_version` from INFO;
/// nullopt (with the reason in `error`) when Redis does not answer it (a
/// managed Redis may disable CONFIG).
std::optional<redis_settings> read_redis_settings(connection& conn,
                                                  std::string& error);

/// What is wrong with `settings`; empty when nothing is. A setting missing
/// from the map is not judged.
std::vector<settings_finding> judge_redis_settings(
  const redis_settings& settings);

} // namespace psp::redis
