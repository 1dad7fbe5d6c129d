#include "runtime/admin_members.hpp"

#include "actors/ownership.hpp"
#include "adapters/redis/cluster_registry.hpp"
#include "adapters/redis/keys.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace psp::admin {

namespace {

using json = nlohmann::json;

// KEYS: 1 registration, 2 cluster:members, 3 leave mark, 4.. the payment
// streams. ARGV: 1 id, 2 group. In one step, so a node that registers
// between a check and the removal cannot have entries dropped with its
// consumer (XGROUP DELCONSUMER forgets a consumer's pending entries).
constexpr const char* forget_lua = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return {'registered', 0} end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return {'unknown', 0} end
local pending = 0
for i = 4, #KEYS do
  local ok, summary = pcall(redis.call, 'XPENDING', KEYS[i], ARGV[2])
  if ok and summary[4] then
    for _, c in ipairs(summary[4]) do
      if c[1] == ARGV[1] then pending = pending + tonumber(c[2]) end
    end
  end
end
if pending > 0 then return {'pending', pending} end
local removed = 0
for i = 4, #KEYS do
  local ok, n = pcall(redis.call, 'XGROUP', 'DELCONSUMER', KEYS[i], ARGV[2],
                      ARGV[1])
  if ok then removed = removed + 1 end
end
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3])
return {'forgotten', removed}
)lua";

/// Field `name` of a flat [name, value, ...] reply (XINFO's shape).
const redis::value* field(const redis::value& flat, const std::string& name) {
  for (size_t i = 0; i + 1 < flat.elements.size(); i += 2) {
    if (flat.elements[i].text() == name) {
      return &flat.elements[i + 1];
    }
  }
  return nullptr;
}

int unreachable(redis::connection& conn) {
  std::cerr << "psp-admin: " << conn.last_error() << '\n';
  return 3;
}

} // namespace

int members_command(redis::connection& conn) {
  auto ids = conn.query({"SMEMBERS", redis::cluster_members_key});
  if (!ids) {
    return unreachable(conn);
  }
  // Pending entries by consumer, over every partition: one round trip.
  std::vector<std::vector<std::string>> asks;
  for (auto p : all_partitions()) {
    asks.push_back({"XINFO", "CONSUMERS", keys::payment_stream(p),
                    keys::payment_group});
  }
  auto partitions = conn.pipeline(asks);
  if (!partitions) {
    return unreachable(conn);
  }
  std::map<std::string, int64_t> pending;
  std::map<std::string, int64_t> idle_ms;
  for (auto& consumers : *partitions) {
    if (consumers.is_error()) {
      continue; // no such stream or group yet
    }
    for (auto& c : consumers.elements) {
      auto* name = field(c, "name");
      auto* count = field(c, "pending");
      auto* idle = field(c, "idle");
      if (name && count) {
        pending[name->text()] += count->integer;
      }
      if (name && idle) {
        auto& least = idle_ms.try_emplace(name->text(), idle->integer).first
                        ->second;
        least = std::min(least, idle->integer);
      }
    }
  }
  // Each member's registration, its TTL and its leave mark: one round trip.
  asks.clear();
  for (auto& id_value : ids->elements) {
    auto key = redis::node_registration_key(id_value.text());
    asks.push_back({"GET", key});
    asks.push_back({"PTTL", key});
    asks.push_back({"EXISTS", redis::node_left_key(id_value.text())});
  }
  auto rows = conn.query_all(asks);
  if (!rows) {
    return unreachable(conn);
  }
  json out = json::array();
  for (size_t i = 0; i < ids->elements.size(); ++i) {
    auto id = ids->elements[i].text();
    const auto* row = &(*rows)[3 * i];
    auto registration = row[0].is_nil() ? std::string{} : row[0].text();
    // "<token>|<epoch>|<address>": the token is the node's secret fence.
    auto first = registration.find('|');
    auto second = first == std::string::npos
                    ? std::string::npos
                    : registration.find('|', first + 1);
    json m{{"id", id},
           {"registered", !registration.empty()},
           {"epoch", nullptr},
           {"address", nullptr},
           {"registration_ttl_ms", nullptr},
           {"left", row[2].integer == 1},
           {"pending_entries", pending.count(id) ? pending[id] : 0},
           {"consumer_idle_ms",
            idle_ms.count(id) ? json(idle_ms[id]) : json(nullptr)}};
    if (second != std::string::npos) {
      m["epoch"] = registration.substr(first + 1, second - first - 1);
      m["address"] = registration.substr(second + 1);
      m["registration_ttl_ms"] = row[1].integer;
    }
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const json& a, const json& b) {
    return a.value("id", "") < b.value("id", "");
  });
  std::cout << json{{"members", out}}.dump(2) << '\n';
  return 0;
}

int forget_node_command(redis::connection& conn,
                        const std::map<std::string, std::string>& opts) {
  auto id = opts.count("--node") ? opts.at("--node") : std::string{};
  if (id.empty()) {
    std::cerr << "psp-admin: forget-node needs --node ID (see psp-admin "
                 "members)\n";
    return 2;
  }
  std::vector<std::string> argv{"EVAL", forget_lua};
  std::vector<std::string> keys{redis::node_registration_key(id),
                                redis::cluster_members_key,
                                redis::node_left_key(id)};
  for (auto p : all_partitions()) {
    keys.push_back(keys::payment_stream(p));
  }
  argv.push_back(std::to_string(keys.size()));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.push_back(id);
  argv.push_back(keys::payment_group);
  auto done = conn.query(argv);
  if (!done || !done->is_array() || done->elements.size() != 2) {
    return unreachable(conn);
  }
  auto verdict = done->elements[0].text();
  auto n = done->elements[1].integer;
  if (verdict == "registered") {
    std::cerr << "psp-admin: " << id
              << " is registered (running, or dead for less than its "
                 "registration's TTL): stop it first\n";
    return 1;
  }
  if (verdict == "unknown") {
    std::cerr << "psp-admin: no member " << id << " (psp-admin members)\n";
    return 2;
  }
  if (verdict == "pending") {
    std::cerr << "psp-admin: " << n << " payment stream entries are pending at "
              << id << "'s consumer; the live nodes take them over (within "
                 "--psp.reclaim-idle-ms): try again then\n";
    return 1;
  }
  std::cout << json{{"forgotten", id}, {"groups", n}}.dump(2) << '\n';
  return 0;
}

} // namespace psp::admin
