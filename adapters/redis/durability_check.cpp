#include "adapters/redis/durability_check.hpp"

#include "actors/decimal.hpp"

#include <charconv>
#include <string_view>
#include <utility>

namespace psp::redis {

namespace {

/// A compact encoding run.sh, the bench and the tests configure; the
/// memory figures of docs/performance.md assume it.
struct encoding_floor {
  const char* setting;
  int64_t minimum;
  const char* costs; ///< what takes more memory below it
};

constexpr encoding_floor encoding_floors[] = {
  {"hash-max-listpack-entries", 512, "objects and archive pointers"},
  {"hash-max-listpack-value", 1024, "objects with longer fields"}};

/// "7.0.15" -> (7, 0); nullopt when it does not start that way.
std::optional<std::pair<int, int>> major_minor(const std::string& version) {
  int major = 0;
  int minor = 0;
  auto* end = version.data() + version.size();
  auto [dot, ec] = std::from_chars(version.data(), end, major);
  if (ec != std::errc{} || dot == end || *dot != '.') {
    return std::nullopt;
  }
  auto [rest, ec2] = std::from_chars(dot + 1, end, minor);
  if (ec2 != std::errc{}) {
    return std::nullopt;
  }
  return std::make_pair(major, minor);
}

const std::string* find(const redis_settings& s, const std::string& name) {
  auto it = s.find(name);
  return it == s.end() ? nullptr : &it->second;
}

} // namespace

const std::vector<std::string>& checked_setting_names() {
  static const std::vector<std::string> names{
    "appendonly", "appendfsync", "maxmemory", "maxmemory-policy",
    "hash-max-listpack-entries", "hash-max-listpack-value"};
  return names;
}

std::optional<redis_settings> read_redis_settings(connection& conn,
                                                  std::string& error) {
  std::vector<std::vector<std::string>> gets{{"INFO", "server"}};
  for (auto& name : checked_setting_names()) {
    gets.push_back({"CONFIG", "GET", name});
  }
  auto replies = conn.pipeline(gets);
  if (!replies || replies->size() != gets.size()) {
    error = conn.last_error();
    return std::nullopt;
  }
  redis_settings out;
  auto& info = replies->front().text();
  auto at = info.find("redis_version:");
  if (at != std::string::npos) {
    at += std::string_view{"redis_version:"}.size();
    auto end = info.find_first_of("\r\n", at);
    out["redis_version"] = info.substr(at, end == std::string::npos
                                             ? std::string::npos
                                             : end - at);
  }
  replies->erase(replies->begin());
  for (auto& reply : *replies) {
    if (reply.is_error()) {
      error = reply.str;
      return std::nullopt;
    }
    // [name, value] (an unknown name answers an empty array).
    if (reply.is_array() && reply.elements.size() == 2) {
      out[reply.elements[0].text()] = reply.elements[1].text();
    }
  }
  return out;
}

std::vector<settings_finding> judge_redis_settings(
  const redis_settings& settings) {
  std::vector<settings_finding> out;
  if (auto* version = find(settings, "redis_version")) {
    auto v = major_minor(*version);
    if (v && *v < std::make_pair(6, 2)) {
      out.push_back({true, "redis_version",
                     "Redis " + *version + " has no XAUTOCLAIM (6.2): the "
                     "payments a dead node had taken would never be taken "
                     "over; use Redis 6.2 or later (Debian 12 ships 7.0)"});
    }
  }
  if (auto* aof = find(settings, "appendonly"); aof && *aof != "yes") {
    out.push_back({true, "appendonly",
                   "appendonly is '" + *aof + "': a crash of Redis loses "
                   "every payment the API acknowledged since the last "
                   "snapshot; run it with --appendonly yes --appendfsync "
                   "always"});
  }
  if (auto* fsync = find(settings, "appendfsync");
      fsync && *fsync != "always") {
    out.push_back({true, "appendfsync",
                   "appendfsync is '" + *fsync + "': a crash of the machine "
                   "loses up to a second of acknowledged payments; set it "
                   "to always (Redis fsyncs each event-loop batch once)"});
  }
  auto* limit = find(settings, "maxmemory");
  auto* policy = find(settings, "maxmemory-policy");
  if (limit && policy && parse_integer(*limit).value_or(1) != 0
      && *policy != "noeviction") {
    out.push_back({true, "maxmemory-policy",
                   "maxmemory-policy is '" + *policy + "' with maxmemory "
                   + *limit + ": a full Redis would evict payments, "
                   "idempotency keys and ledger entries; set noeviction "
                   "(writes then fail and the API answers 503)"});
  }
  for (auto& floor : encoding_floors) {
    auto* set = find(settings, floor.setting);
    if (set && parse_integer(*set).value_or(0) < floor.minimum) {
      out.push_back({false, floor.setting,
                     std::string{floor.setting} + " is " + *set + ": "
                       + floor.costs + " take more memory than measured; "
                       + "set " + std::to_string(floor.minimum)
                       + " or more"});
    }
  }
  return out;
}

} // namespace psp::redis
