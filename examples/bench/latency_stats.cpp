#include "latency_stats.hpp"

#include "bench_clock.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace bench {

int64_t percentile_sorted(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  // Nearest rank: the smallest sample with at least p% of samples <= it.
  auto rank = static_cast<size_t>(
    std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

latency_summary summarize_ns(std::vector<int64_t>& samples_ns) {
  latency_summary s;
  s.count = samples_ns.size();
  if (samples_ns.empty()) {
    return s;
  }
  std::sort(samples_ns.begin(), samples_ns.end());
  auto sum = std::accumulate(samples_ns.begin(), samples_ns.end(), 0.0,
                             [](double a, int64_t b) {
                               return a + static_cast<double>(b);
                             });
  s.mean_ms = sum / static_cast<double>(samples_ns.size()) / 1e6;
  s.p50_ms = ns_to_ms(percentile_sorted(samples_ns, 50));
  s.p90_ms = ns_to_ms(percentile_sorted(samples_ns, 90));
  s.p99_ms = ns_to_ms(percentile_sorted(samples_ns, 99));
  s.max_ms = ns_to_ms(samples_ns.back());
  return s;
}

nlohmann::json to_json(const latency_summary& s) {
  return {{"count", s.count},   {"mean_ms", s.mean_ms}, {"p50_ms", s.p50_ms},
          {"p90_ms", s.p90_ms}, {"p99_ms", s.p99_ms},   {"max_ms", s.max_ms}};
}

} // namespace bench
