// Command-line options of payment-bench, parsed and bounded in one place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct bench_options {
  std::vector<std::string> node_urls; ///< --nodes URL[,URL...]
  std::vector<int> node_pids;         ///< --node-pids PID[,PID...] (RSS, CPU)
  int sim_pid = 0;                    ///< --sim-pid PID: card network (CPU)
  std::string api_key;                ///< --api-key sk_test_...
  std::string redis = "127.0.0.1:6379"; ///< --redis HOST:PORT
  std::string label = "e2e";          ///< --label, copied into the JSON
  std::string out_path;               ///< --out FILE (default: stdout)
  int concurrency = 16;               ///< client threads (keep-alive each)
  int duration_s = 10;                ///< per measured phase
  int count = 0;                      ///< payments; 0: run for duration_s
  int warmup = 0;                     ///< warm-up payments; 0: automatic
  int outstanding_max = 0;            ///< confirmed, webhook pending; 0: auto
  int receiver_threads = 64;          ///< webhook receiver handler threads
  int drain_timeout_s = 30;           ///< wait for the last webhooks
  int settle_timeout_s = 10;          ///< wait for Redis to go idle
  bool help = false;
};

/// Parses `argv`; returns an error message, empty on success.
std::string parse_bench_options(int argc, const char* const* argv,
                                bench_options& out);

std::string bench_usage();

/// Splits "a,b,c" into its non-empty parts.
std::vector<std::string> split_list(const std::string& text);

} // namespace bench
