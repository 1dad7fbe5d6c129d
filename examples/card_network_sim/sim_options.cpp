#include "sim_options.hpp"

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace psp::sim {

namespace {

template <class T>
bool parse_integer(const std::string& text, T lo, T hi, T& out) {
  auto last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), last, out);
  return !text.empty() && ec == std::errc{} && ptr == last && out >= lo &&
         out <= hi;
}

bool parse_rate(const std::string& text, double& out) {
  if (text.empty()) {
    return false;
  }
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && out >= 0.0 && out <= 1.0;
}

bool known_flag(std::string_view name) {
  for (std::string_view f : {"--port", "--host", "--latency-ms", "--error-rate",
                             "--seed", "--threads", "--journal"}) {
    if (f == name) {
      return true;
    }
  }
  return false;
}

// Applies one flag; returns an error message or an empty string.
std::string apply_flag(const std::string& name, const std::string& value,
                       sim_options& o) {
  bool ok = true;
  if (name == "--port") {
    ok = parse_integer(value, 0, 65535, o.port);
  } else if (name == "--host") {
    o.host = value;
    ok = !value.empty();
  } else if (name == "--latency-ms") {
    ok = parse_integer<int64_t>(value, 0, 120'000, o.latency_ms);
  } else if (name == "--error-rate") {
    ok = parse_rate(value, o.error_rate);
  } else if (name == "--seed") {
    ok = parse_integer<uint64_t>(value, 0, UINT64_MAX, o.seed);
  } else if (name == "--threads") {
    ok = parse_integer(value, 1, 1024, o.threads);
  } else if (name == "--journal") {
    o.journal_path = value;
    ok = !value.empty();
  }
  return ok ? std::string{} : "invalid value '" + value + "' for " + name;
}

} // namespace

sim_options_result parse_sim_options(int argc, const char* const* argv) {
  sim_options_result result;
  auto& o = result.options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      o.help = true;
      return result;
    }
    std::string value;
    auto eq = arg.find('=');
    if (!known_flag(arg.substr(0, eq))) {
      result.error = "unknown flag " + arg.substr(0, eq);
      return result;
    }
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      result.error = "missing value for " + arg;
      return result;
    }
    result.error = apply_flag(arg, value, o);
    if (!result.error.empty()) {
      return result;
    }
  }
  if (o.port < 0) {
    result.error = "--port is required (0 picks a free port)";
  }
  return result;
}

std::string sim_usage() {
  return "usage: card-network-sim --port N [--host 127.0.0.1] "
         "[--latency-ms 0] [--error-rate 0.0] [--seed 1] [--threads 32]\n"
         "       [--journal FILE]\n"
         "  --port        TCP port, 0 = pick a free one (required)\n"
         "  --host        interface to listen on\n"
         "  --latency-ms  initial latency per payment answer, 0..120000\n"
         "  --error-rate  initial fraction of 503 answers, 0..1\n"
         "  --seed        seed of the fault PRNG\n"
         "  --threads     HTTP worker threads, 1..1024\n"
         "  --journal     file that keeps charges, refunds and idempotency\n"
         "                keys across restarts (default: memory only)\n";
}

} // namespace psp::sim
