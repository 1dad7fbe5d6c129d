// Loading the raw measurements bench.sh leaves in run/bench/raw/: wrk's
// JSON summaries (from wrk_bench.lua), redis-benchmark's CSV, Redis INFO
// text, payment-bench's JSON and a MONITOR capture.
#pragma once

#include "redis_info.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace bench {

struct wrk_result {
  uint64_t requests = 0;
  uint64_t errors = 0; ///< connect + read + write + timeout + HTTP >= 400
  double duration_s = 0;
  double per_s = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

std::optional<wrk_result> load_wrk(const std::string& path);

struct redis_benchmark_result {
  double per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

/// redis-benchmark --csv: a header line, then "SET","rps",...,"p99",...
std::optional<redis_benchmark_result>
load_redis_benchmark(const std::string& path);

std::optional<nlohmann::json> load_json(const std::string& path);

/// A file holding the output of INFO stats/commandstats/memory.
std::optional<redis_snapshot> load_info(const std::string& path,
                                        double unix_s = 0);

/// Commands in a MONITOR capture between two wall-clock times.
struct monitor_counts {
  uint64_t top_level = 0; ///< sent by a client (incl. inside MULTI)
  uint64_t in_lua = 0;    ///< run by a script with redis.call
  uint64_t probes = 0;    ///< INFO from the benchmark itself, not counted
};

monitor_counts count_monitor(const std::string& path, double from_unix,
                             double to_unix);

} // namespace bench
