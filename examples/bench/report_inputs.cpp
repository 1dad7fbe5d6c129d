#include "report_inputs.hpp"

#include <fstream>
#include <sstream>

namespace bench {

namespace {

std::optional<std::string> slurp(const std::string& path) {
  std::ifstream in{path};
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The fields of one CSV line, quotes removed.
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

double to_double(const std::string& text) {
  try {
    return std::stod(text);
  } catch (const std::exception&) {
    return 0;
  }
}

} // namespace

std::optional<nlohmann::json> load_json(const std::string& path) {
  auto text = slurp(path);
  if (!text) {
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) {
    return std::nullopt;
  }
  return j;
}

std::optional<wrk_result> load_wrk(const std::string& path) {
  auto j = load_json(path);
  if (!j || !j->is_object()) {
    return std::nullopt;
  }
  wrk_result r;
  r.requests = j->value("requests", 0ull);
  r.duration_s = j->value("duration_us", 0.0) / 1e6;
  auto errors = j->value("errors", nlohmann::json::object());
  for (auto& [kind, n] : errors.items()) {
    r.errors += n.is_number_unsigned() ? n.get<uint64_t>() : 0;
  }
  r.per_s = r.duration_s > 0 ? r.requests / r.duration_s : 0;
  auto lat = j->value("latency_us", nlohmann::json::object());
  if (!lat.is_object()) {
    lat = nlohmann::json::object();
  }
  r.p50_ms = lat.value("p50", 0.0) / 1e3;
  r.p90_ms = lat.value("p90", 0.0) / 1e3;
  r.p99_ms = lat.value("p99", 0.0) / 1e3;
  r.max_ms = lat.value("max", 0.0) / 1e3;
  return r;
}

std::optional<redis_benchmark_result>
load_redis_benchmark(const std::string& path) {
  std::ifstream in{path};
  std::string line;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    auto f = csv_fields(line);
    if (header.empty()) {
      header = f;
      continue;
    }
    redis_benchmark_result r;
    for (size_t i = 0; i < f.size() && i < header.size(); ++i) {
      if (header[i] == "rps") {
        r.per_s = to_double(f[i]);
      } else if (header[i] == "p50_latency_ms") {
        r.p50_ms = to_double(f[i]);
      } else if (header[i] == "p99_latency_ms") {
        r.p99_ms = to_double(f[i]);
      }
    }
    if (r.per_s > 0) {
      return r;
    }
  }
  return std::nullopt;
}

std::optional<redis_snapshot> load_info(const std::string& path,
                                        double unix_s) {
  auto text = slurp(path);
  if (!text || text->find("total_commands_processed") == std::string::npos) {
    return std::nullopt;
  }
  auto snap = make_snapshot(*text, *text, *text, *text, unix_s);
  // bench.sh adds INFO keyspace and a `key_table_bytes:` line of its own
  // (from MEMORY STATS) where it can.
  snap.keys = parse_keyspace_keys(*text);
  auto fields = parse_info(*text);
  auto tables = fields.find("key_table_bytes");
  if (tables != fields.end()) {
    snap.key_table_bytes = static_cast<int64_t>(to_double(tables->second));
  }
  return snap;
}

monitor_counts count_monitor(const std::string& path, double from_unix,
                             double to_unix) {
  // Lines look like: 1700000000.123456 [0 127.0.0.1:5555] "EVALSHA" ...
  // or, for a command a script ran:  1700000000.123500 [0 lua] "HSET" ...
  monitor_counts out;
  std::ifstream in{path};
  std::string line;
  while (std::getline(in, line)) {
    auto space = line.find(' ');
    if (space == std::string::npos || line.find('[') != space + 1) {
      continue;
    }
    auto t = to_double(line.substr(0, space));
    if (t < from_unix || t > to_unix) {
      continue;
    }
    auto close = line.find(']', space);
    if (close == std::string::npos) {
      continue;
    }
    auto source = line.substr(space + 1, close - space);
    auto command = line.substr(close + 1);
    if (source.find(" lua]") != std::string::npos) {
      ++out.in_lua;
    } else if (command.rfind(" \"INFO\"", 0) == 0
               || command.rfind(" \"info\"", 0) == 0) {
      ++out.probes;
    } else {
      ++out.top_level;
    }
  }
  return out;
}

} // namespace bench
