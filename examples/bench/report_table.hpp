// The benchmark's verdict: rows of `| measure | value | floor | ratio |
// target |` built from the loaded measurements, and the targets of issue 8
// checked against them.
#pragma once

#include "report_inputs.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace bench {

struct report_data {
  std::optional<wrk_result> hello;
  std::optional<wrk_result> checkout;
  std::optional<redis_snapshot> checkout_before;
  std::optional<redis_snapshot> checkout_after;
  std::optional<redis_benchmark_result> redis_set;
  std::optional<redis_benchmark_result> redis_set_pipelined;
  std::optional<nlohmann::json> e2e_light; ///< payment-bench, 2 in flight
  std::optional<nlohmann::json> e2e_one;   ///< payment-bench, 1 node
  std::optional<nlohmann::json> e2e_three; ///< payment-bench, 3 nodes
  /// The second round, in the opposite order: 3 nodes, then 1 (A B B A).
  std::optional<nlohmann::json> e2e_three_b;
  std::optional<nlohmann::json> e2e_one_b;
  /// payment-bench, 1 node, the card network answering after a delay
  std::optional<nlohmann::json> e2e_slow_network;
  std::optional<nlohmann::json> monitor_run; ///< payment-bench, tiny run
  std::optional<monitor_counts> monitor_pay;    ///< its pay window
  std::optional<monitor_counts> monitor_create; ///< its create window
  /// psp-admin archive after the phases: its JSON answer, and INFO around.
  std::optional<nlohmann::json> archive_run;
  std::optional<redis_snapshot> archive_before;
  std::optional<redis_snapshot> archive_after;
  bool smoke = false;
  double cores = 2; ///< CPUs the whole stack shares (from meta.json)
  double card_connections = 0;        ///< the node's, from meta.json
  double slow_network_latency_ms = 0; ///< of e2e_slow_network, meta.json
};

struct report_row {
  std::string measure;
  std::string value;
  std::string floor;
  std::string ratio;
  std::string target;
  std::optional<bool> met; ///< nullopt: no target, or not judged (smoke)
};

/// Builds the rows; adds derived figures to `derived`.
std::vector<report_row> build_rows(const report_data& d,
                                   nlohmann::json& derived);

void print_table(std::ostream& out, const std::vector<report_row>& rows);

nlohmann::json rows_json(const std::vector<report_row>& rows);

} // namespace bench
