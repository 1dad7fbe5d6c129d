#include "redis_info.hpp"

#include <algorithm>
#include <sstream>

namespace bench {

namespace {

uint64_t to_u64(const std::string& text) {
  try {
    return text.empty() ? 0 : std::stoull(text);
  } catch (const std::exception&) {
    return 0;
  }
}

} // namespace

std::map<std::string, std::string> parse_info(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.empty() || line[0] == '#') {
      continue;
    }
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      out[line.substr(0, colon)] = line.substr(colon + 1);
    }
  }
  return out;
}

std::map<std::string, uint64_t> parse_commandstats(const std::string& text) {
  std::map<std::string, uint64_t> out;
  const std::string prefix = "cmdstat_";
  for (auto& [key, value] : parse_info(text)) {
    if (key.rfind(prefix, 0) != 0) {
      continue;
    }
    auto at = value.find("calls=");
    if (at == std::string::npos) {
      continue;
    }
    auto end = value.find(',', at);
    out[key.substr(prefix.size())]
      = to_u64(value.substr(at + 6, end == std::string::npos
                                      ? std::string::npos
                                      : end - at - 6));
  }
  return out;
}

uint64_t parse_keyspace_keys(const std::string& text) {
  uint64_t keys = 0;
  for (auto& [name, value] : parse_info(text)) {
    if (name.rfind("db", 0) != 0 || value.rfind("keys=", 0) != 0) {
      continue;
    }
    keys += to_u64(value.substr(5, value.find(',') - 5));
  }
  return keys;
}

redis_snapshot make_snapshot(const std::string& stats_text,
                             const std::string& commandstats_text,
                             const std::string& memory_text,
                             const std::string& cpu_text, double unix_s) {
  redis_snapshot s;
  s.unix_s = unix_s;
  auto stats = parse_info(stats_text);
  s.reads = to_u64(stats["total_reads_processed"]);
  s.commands = to_u64(stats["total_commands_processed"]);
  s.used_memory = static_cast<int64_t>(
    to_u64(parse_info(memory_text)["used_memory"]));
  s.calls = parse_commandstats(commandstats_text);
  auto cpu = parse_info(cpu_text);
  for (auto* key : {"used_cpu_user", "used_cpu_sys"}) {
    try {
      s.cpu_s += cpu[key].empty() ? 0.0 : std::stod(cpu[key]);
    } catch (const std::exception&) {
    }
  }
  return s;
}

redis_delta diff(const redis_snapshot& before, const redis_snapshot& after) {
  redis_delta d;
  d.elapsed_s = after.unix_s - before.unix_s;
  d.reads = static_cast<int64_t>(after.reads - before.reads);
  d.commands = static_cast<int64_t>(after.commands - before.commands);
  d.memory_bytes = after.used_memory - before.used_memory;
  d.key_table_bytes = after.key_table_bytes - before.key_table_bytes;
  d.keys = static_cast<int64_t>(after.keys) - static_cast<int64_t>(before.keys);
  d.key_table_bytes_per_key
    = after.keys == 0 ? 0.0
                      : static_cast<double>(after.key_table_bytes)
                          / static_cast<double>(after.keys);
  d.cpu_s = after.cpu_s - before.cpu_s;
  for (auto& [name, n] : after.calls) {
    auto i = before.calls.find(name);
    auto was = i == before.calls.end() ? 0 : i->second;
    if (n != was) {
      d.calls[name] = static_cast<int64_t>(n - was);
    }
  }
  return d;
}

double amortized_memory_per_item(const redis_delta& d, uint64_t items) {
  auto n = static_cast<double>(std::max<uint64_t>(items, 1));
  return (static_cast<double>(d.memory_bytes - d.key_table_bytes)
          + static_cast<double>(d.keys) * d.key_table_bytes_per_key)
         / n;
}

nlohmann::json per_item_json(const redis_delta& d, uint64_t items,
                             double idle_reads_per_s,
                             double idle_commands_per_s) {
  auto n = static_cast<double>(std::max<uint64_t>(items, 1));
  auto idle_reads = idle_reads_per_s * d.elapsed_s;
  auto idle_commands = idle_commands_per_s * d.elapsed_s;
  nlohmann::json calls = nlohmann::json::object();
  for (auto& [name, count] : d.calls) {
    calls[name] = static_cast<double>(count) / n;
  }
  return {{"items", items},
          {"elapsed_s", d.elapsed_s},
          {"reads", d.reads},
          {"commands", d.commands},
          {"memory_bytes", d.memory_bytes},
          {"idle_reads_removed", idle_reads},
          {"idle_commands_removed", idle_commands},
          {"round_trips_per_item",
           std::max(0.0, static_cast<double>(d.reads) - idle_reads) / n},
          {"commands_per_item",
           std::max(0.0, static_cast<double>(d.commands) - idle_commands) / n},
          {"memory_bytes_per_item", static_cast<double>(d.memory_bytes) / n},
          {"key_table_bytes", d.key_table_bytes},
          {"keys_per_item", static_cast<double>(d.keys) / n},
          {"key_table_bytes_per_key", d.key_table_bytes_per_key},
          {"memory_bytes_per_item_amortized",
           amortized_memory_per_item(d, items)},
          {"cpu_s", d.cpu_s},
          {"cpu_ms_per_item", d.cpu_s * 1e3 / n},
          {"calls_per_item", calls}};
}

} // namespace bench
