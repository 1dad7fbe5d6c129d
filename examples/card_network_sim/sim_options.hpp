#pragma once

// Command-line options of card-network-sim, each with its default, unit and
// bound, validated once at start-up.

#include <cstdint>
#include <string>

namespace psp::sim {

/// Everything the command line can set.
struct sim_options {
  /// Interface to listen on.
  std::string host = "127.0.0.1";
  /// TCP port; 0 lets the OS pick a free one. Required.
  int port = -1;
  /// Initial latency added to every payment answer.
  int64_t latency_ms = 0;
  /// Initial fraction of payment requests answered 503 before executing.
  double error_rate = 0.0;
  /// Seed of the fault PRNG.
  uint64_t seed = 1;
  /// HTTP worker threads (each open connection occupies one).
  int threads = 32;
  /// Append-only file of executed operations, replayed at start; empty:
  /// everything lives in memory and a restart forgets it.
  std::string journal_path;
  /// Set by --help.
  bool help = false;
};

/// Result of parsing: options, or a message for stderr.
struct sim_options_result {
  sim_options options;
  std::string error;
};

/// Parses `--flag value` and `--flag=value` forms.
sim_options_result parse_sim_options(int argc, const char* const* argv);

/// One-paragraph usage text.
std::string sim_usage();

} // namespace psp::sim
