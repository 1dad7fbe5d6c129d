// bench-report: prints bench.sh's table and writes results.json from the raw
// measurements in a folder (see report_inputs.hpp for the file names).
//
//   bench-report --raw DIR --out FILE [--meta FILE] [--smoke]
//
// Exit status: 0 when the measurements every mode needs are present (their
// values never fail it: speed is reported, not enforced), 1 when one is
// missing or unreadable, 2 on bad flags.
#include "report_inputs.hpp"
#include "report_table.hpp"

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

using json = nlohmann::json;
using namespace bench;

struct report_options {
  std::string raw_dir;
  std::string out_path;
  std::string meta_path;
  bool smoke = false;
};

bool parse(int argc, char** argv, report_options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--smoke") {
      o.smoke = true;
    } else if (i + 1 < argc && flag == "--raw") {
      o.raw_dir = argv[++i];
    } else if (i + 1 < argc && flag == "--out") {
      o.out_path = argv[++i];
    } else if (i + 1 < argc && flag == "--meta") {
      o.meta_path = argv[++i];
    } else {
      return false;
    }
  }
  return !o.raw_dir.empty() && !o.out_path.empty();
}

report_data load_all(const std::string& dir, bool smoke) {
  report_data d;
  d.smoke = smoke;
  d.hello = load_wrk(dir + "/hello.wrk.json");
  d.checkout = load_wrk(dir + "/checkout.wrk.json");
  d.checkout_before = load_info(dir + "/checkout.info.before");
  d.checkout_after = load_info(dir + "/checkout.info.after");
  d.redis_set = load_redis_benchmark(dir + "/redis_set.csv");
  d.redis_set_pipelined = load_redis_benchmark(dir + "/redis_set_p16.csv");
  d.e2e_light = load_json(dir + "/e2e_light.json");
  d.e2e_one = load_json(dir + "/e2e_1node.json");
  d.e2e_three = load_json(dir + "/e2e_3nodes.json");
  d.e2e_three_b = load_json(dir + "/e2e_3nodes_b.json");
  d.e2e_one_b = load_json(dir + "/e2e_1node_b.json");
  d.e2e_slow_network = load_json(dir + "/e2e_slow_network.json");
  d.monitor_run = load_json(dir + "/monitor_run.json");
  d.archive_run = load_json(dir + "/archive.json");
  d.archive_before = load_info(dir + "/archive.info.before");
  d.archive_after = load_info(dir + "/archive.info.after");
  if (d.monitor_run) {
    auto& m = *d.monitor_run;
    auto window = [&](const char* phase) {
      auto times = m.is_object() ? m.value(phase, json::object())
                                 : json::object();
      if (!times.is_object()) {
        times = json::object();
      }
      return count_monitor(dir + "/monitor.log",
                           times.value("start_unix", 0.0),
                           times.value("end_unix", 0.0) + 0.2);
    };
    d.monitor_pay = window("pay");
    d.monitor_create = window("create");
  }
  return d;
}

/// Names of required measurements that are missing.
std::vector<std::string> missing(const report_data& d) {
  std::vector<std::string> out;
  auto need = [&](bool present, const char* what) {
    if (!present) {
      out.push_back(what);
    }
  };
  need(d.hello.has_value(), "hello.wrk.json");
  need(d.checkout.has_value(), "checkout.wrk.json");
  need(d.redis_set.has_value(), "redis_set.csv");
  need(d.e2e_light.has_value(), "e2e_light.json");
  need(d.e2e_one.has_value(), "e2e_1node.json");
  need(d.e2e_three.has_value(), "e2e_3nodes.json");
  need(d.e2e_slow_network.has_value(), "e2e_slow_network.json");
  need(d.monitor_run.has_value(), "monitor_run.json");
  need(d.archive_run.has_value(), "archive.json");
  return out;
}

json raw_json(const report_data& d) {
  json raw;
  auto wrk = [](const wrk_result& w) {
    return json{{"requests", w.requests}, {"errors", w.errors},
                {"duration_s", w.duration_s}, {"per_s", w.per_s},
                {"p50_ms", w.p50_ms}, {"p90_ms", w.p90_ms},
                {"p99_ms", w.p99_ms}, {"max_ms", w.max_ms}};
  };
  auto rb = [](const redis_benchmark_result& r) {
    return json{{"per_s", r.per_s}, {"p50_ms", r.p50_ms}, {"p99_ms", r.p99_ms}};
  };
  if (d.hello) raw["http_floor_hello_world"] = wrk(*d.hello);
  if (d.checkout) raw["create_checkout_wrk"] = wrk(*d.checkout);
  if (d.redis_set) raw["redis_floor_set"] = rb(*d.redis_set);
  if (d.redis_set_pipelined) raw["redis_set_pipelined_16"] = rb(*d.redis_set_pipelined);
  if (d.e2e_light) raw["e2e_light"] = *d.e2e_light;
  if (d.e2e_one) raw["e2e_1node"] = *d.e2e_one;
  if (d.e2e_three) raw["e2e_3nodes"] = *d.e2e_three;
  if (d.e2e_three_b) raw["e2e_3nodes_b"] = *d.e2e_three_b;
  if (d.e2e_one_b) raw["e2e_1node_b"] = *d.e2e_one_b;
  if (d.e2e_slow_network) raw["e2e_slow_network"] = *d.e2e_slow_network;
  if (d.monitor_run) raw["monitor_run"] = *d.monitor_run;
  if (d.monitor_pay) {
    raw["monitor_pay_window"] = {{"top_level", d.monitor_pay->top_level},
                                 {"in_lua", d.monitor_pay->in_lua},
                                 {"probes", d.monitor_pay->probes}};
  }
  if (d.monitor_create) {
    raw["monitor_create_window"] = {{"top_level", d.monitor_create->top_level},
                                    {"in_lua", d.monitor_create->in_lua},
                                    {"probes", d.monitor_create->probes}};
  }
  return raw;
}

} // namespace

int main(int argc, char** argv) {
  report_options opts;
  if (!parse(argc, argv, opts)) {
    std::cerr << "usage: bench-report --raw DIR --out FILE [--meta FILE] "
                 "[--smoke]\n";
    return 2;
  }
  auto data = load_all(opts.raw_dir, opts.smoke);
  auto meta = opts.meta_path.empty()
                ? json::object()
                : load_json(opts.meta_path).value_or(json::object());
  if (!meta.is_object()) {
    meta = json::object();
  }
  data.cores = meta.value("cores", data.cores);
  data.card_connections = meta.value("card_connections", 0.0);
  data.slow_network_latency_ms = meta.value("slow_network_latency_ms", 0.0);
  json derived = json::object();
  auto rows = build_rows(data, derived);
  print_table(std::cout, rows);
  json results;
  results["meta"] = meta;
  results["smoke"] = opts.smoke;
  results["table"] = rows_json(rows);
  results["derived"] = derived;
  results["raw"] = raw_json(data);
  auto gaps = missing(data);
  results["missing"] = gaps;
  std::ofstream out{opts.out_path};
  out << results.dump(2) << '\n';
  if (!out) {
    std::cerr << "bench-report: cannot write " << opts.out_path << "\n";
    return 1;
  }
  for (auto& g : gaps) {
    std::cerr << "bench-report: missing measurement " << g << "\n";
  }
  return gaps.empty() ? 0 : 1;
}
