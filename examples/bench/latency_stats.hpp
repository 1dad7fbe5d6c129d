// Latency summaries (percentiles by nearest rank) of a set of samples.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

namespace bench {

struct latency_summary {
  size_t count = 0;
  double mean_ms = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

/// Summarizes samples in nanoseconds; sorts `samples_ns` in place.
latency_summary summarize_ns(std::vector<int64_t>& samples_ns);

/// The value at percentile `p` (0..100) of sorted samples, nearest rank.
int64_t percentile_sorted(const std::vector<int64_t>& sorted, double p);

nlohmann::json to_json(const latency_summary& s);

} // namespace bench
