#pragma once

// psp-admin's archive command: packs every paid charge that finished at
// least --after-s ago into the archive now, as the nodes' archivers would
// over time (adapters/redis/archive_scripts.hpp), and prints what it did as
// JSON: {"archived", "later", "skipped", "packed_bytes", "elapsed_s",
// "cpu_s"} (cpu_s: this process's own CPU, for the benchmark). 0 done,
// 2 usage, 3 Redis unreachable.

#include "adapters/redis/redis_connection.hpp"

#include <map>
#include <string>

namespace psp::admin {

int archive_command(redis::connection& conn,
                    const std::map<std::string, std::string>& opts);

} // namespace psp::admin
