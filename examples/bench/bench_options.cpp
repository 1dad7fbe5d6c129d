#include "bench_options.hpp"

#include <cstdlib>

namespace bench {

namespace {

bool parse_int(const std::string& text, int lo, int hi, int& out) {
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < lo || v > hi) {
    return false;
  }
  out = static_cast<int>(v);
  return true;
}

bool is_http_url(const std::string& url) {
  return url.rfind("http://", 0) == 0 && url.size() > 7;
}

// Applies one flag; false when the flag is unknown or its value bad.
bool apply(const std::string& flag, const std::string& value,
           bench_options& o) {
  if (flag == "--nodes") {
    o.node_urls = split_list(value);
    if (o.node_urls.empty() || o.node_urls.size() > 16) {
      return false;
    }
    for (auto& url : o.node_urls) {
      if (!is_http_url(url)) {
        return false;
      }
    }
    return true;
  }
  if (flag == "--node-pids") {
    o.node_pids.clear();
    for (auto& p : split_list(value)) {
      int pid = 0;
      if (!parse_int(p, 1, 1 << 30, pid)) {
        return false;
      }
      o.node_pids.push_back(pid);
    }
    return true;
  }
  if (flag == "--api-key") {
    o.api_key = value;
    return !value.empty();
  }
  if (flag == "--redis") {
    o.redis = value;
    return value.find(':') != std::string::npos;
  }
  if (flag == "--label") {
    o.label = value;
    return !value.empty();
  }
  if (flag == "--out") {
    o.out_path = value;
    return !value.empty();
  }
  return flag == "--concurrency"        ? parse_int(value, 1, 256, o.concurrency)
         : flag == "--duration-s"       ? parse_int(value, 1, 3600, o.duration_s)
         : flag == "--count"            ? parse_int(value, 0, 1'000'000, o.count)
         : flag == "--sim-pid"          ? parse_int(value, 1, 1 << 30, o.sim_pid)
         : flag == "--warmup"           ? parse_int(value, 0, 100'000, o.warmup)
         : flag == "--outstanding-max"  ? parse_int(value, 0, 100'000,
                                                    o.outstanding_max)
         : flag == "--receiver-threads" ? parse_int(value, 2, 1024,
                                                    o.receiver_threads)
         : flag == "--drain-timeout-s"  ? parse_int(value, 1, 600,
                                                    o.drain_timeout_s)
         : flag == "--settle-timeout-s" ? parse_int(value, 1, 600,
                                                    o.settle_timeout_s)
                                        : false;
}

} // namespace

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string::npos
                                     ? std::string::npos
                                     : comma - start);
    if (!item.empty()) {
      out.push_back(item);
    }
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return out;
}

std::string parse_bench_options(int argc, const char* const* argv,
                                bench_options& out) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      out.help = true;
      return {};
    }
    std::string value;
    auto eq = flag.find('=');
    if (eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return "missing value for " + flag;
    }
    if (!apply(flag, value, out)) {
      return "unknown flag or bad value: " + flag + " " + value;
    }
  }
  if (out.node_urls.empty() || out.api_key.empty()) {
    return "--nodes and --api-key are required";
  }
  if (static_cast<size_t>(out.concurrency) < out.node_urls.size()) {
    return "--concurrency must be at least the number of nodes (each "
           "client thread talks to one node)";
  }
  return {};
}

std::string bench_usage() {
  return "usage: payment-bench --nodes URL[,URL...] --api-key KEY\n"
         "         [--redis 127.0.0.1:6379] [--node-pids PID[,PID...]]\n"
         "         [--sim-pid PID]\n"
         "         [--concurrency 16] [--duration-s 10] [--count 0]\n"
         "         [--warmup 0] [--outstanding-max 0] [--label e2e]\n"
         "         [--out FILE] [--receiver-threads 64]\n"
         "         [--drain-timeout-s 30] [--settle-timeout-s 10]\n"
         "  --concurrency N   client threads, one connection each, spread\n"
         "                    round-robin over the nodes\n"
         "  --count N         pay exactly N sessions (0: run --duration-s)\n"
         "  --warmup N        warm-up payments before measuring (0: auto)\n"
         "  --outstanding-max confirmed payments awaiting their webhook\n"
         "                    (0: 4 x concurrency)\n";
}

} // namespace bench
