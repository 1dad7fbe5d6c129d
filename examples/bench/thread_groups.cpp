#include "thread_groups.hpp"

#include <algorithm>
#include <sstream>

namespace bench {

namespace {

/// The number after `key` at the start of a line of `status`; -1 if none.
double status_field(const std::string& status, const std::string& key) {
  std::istringstream lines{status};
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(key, 0) == 0) {
      try {
        return std::stod(line.substr(key.size()));
      } catch (const std::exception&) {
        return -1;
      }
    }
  }
  return -1;
}

} // namespace

std::optional<stat_ticks> parse_stat_ticks(const std::string& stat_line) {
  // The command name (field 2) may hold spaces: count fields after its ')'.
  auto close = stat_line.rfind(')');
  if (close == std::string::npos || close + 2 > stat_line.size()) {
    return std::nullopt;
  }
  std::istringstream fields{stat_line.substr(close + 2)};
  std::string field;
  stat_ticks out;
  int i = 3;
  for (; i <= 15 && fields >> field; ++i) {
    try {
      if (i == 14) {
        out.user = std::stod(field);
      } else if (i == 15) {
        out.system = std::stod(field);
      }
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (i <= 15) {
    return std::nullopt;
  }
  return out;
}

bool add_thread(thread_groups& into, const std::string& name,
                const std::string& stat_line, const std::string& status,
                double ticks_per_s) {
  auto ticks = parse_stat_ticks(stat_line);
  auto voluntary = status_field(status, "voluntary_ctxt_switches:");
  auto involuntary = status_field(status, "nonvoluntary_ctxt_switches:");
  if (!ticks || ticks_per_s <= 0 || voluntary < 0 || involuntary < 0) {
    return false;
  }
  auto& g = into[name];
  g.cpu_s += (ticks->user + ticks->system) / ticks_per_s;
  g.voluntary_switches += voluntary;
  g.involuntary_switches += involuntary;
  return true;
}

nlohmann::json thread_groups_per_item(const thread_groups& before,
                                      const thread_groups& after,
                                      uint64_t items) {
  auto n = static_cast<double>(std::max<uint64_t>(items, 1));
  auto out = nlohmann::json::object();
  for (auto& [name, b] : after) {
    thread_group a;
    if (auto i = before.find(name); i != before.end()) {
      a = i->second;
    }
    auto per = [n](double from, double to) {
      return std::max(0.0, to - from) / n;
    };
    out[name] = {
      {"cpu_ms", per(a.cpu_s, b.cpu_s) * 1e3},
      {"voluntary_switches", per(a.voluntary_switches, b.voluntary_switches)},
      {"involuntary_switches",
       per(a.involuntary_switches, b.involuntary_switches)}};
  }
  return out;
}

} // namespace bench
