#include "runtime/recon_store.hpp"

#include "actors/clock.hpp"
#include "adapters/crypto/random_id.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/scripts.hpp"
#include "runtime/balance_reader.hpp"

namespace psp::recon {

namespace {

using json = nlohmann::json;

// An operator event: kept in its `evt:` hash with no merchant, indexed in
// events:operator by ms, never under a merchant (recon_store.hpp).
const std::string operator_event_lua = R"lua(
local function operator_event(key, index, id, type, object, now_s, now_ms,
    snapshot)
  redis.call('HSET', key, 'type', type, 'created', now_s, 'merchant', '',
    'audience', 'operator', 'object', object, 'snapshot', snapshot)
  redis.call('ZADD', index, now_ms, id)
end
)lua";

// KEYS: 1 run hash, 2 runs index, 3 event hash, 4 operator event index,
// 5 lease, 6 period marker. ARGV: 1 lease owner ("": manual run, no lease),
// 2 run id, 3 started ms, 4 now s, 5 event id ("": none), 6 event type,
// 7 event snapshot, 8... run hash field/value pairs.
const char* store_run_lua = R"lua(
if ARGV[1] ~= '' then
  if redis.call('GET', KEYS[5]) ~= ARGV[1] then return 'lease_lost' end
  if redis.call('EXISTS', KEYS[6]) == 1 then return 'already_done' end
end
redis.call('HSET', KEYS[1], unpack(ARGV, 8))
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
if ARGV[5] ~= '' then
  operator_event(KEYS[3], KEYS[4], ARGV[5], ARGV[6], 'reconciliation_run',
    ARGV[4], ARGV[3], ARGV[7])
end
if ARGV[1] ~= '' then redis.call('SET', KEYS[6], ARGV[2]) end
return 'stored'
)lua";

// KEYS: 1 once key, 2 event hash, 3 operator event index. ARGV: 1 ttl s,
// 2 event id, 3 type, 4 now s, 5 now ms, 6 snapshot.
const char* operator_event_once_lua = R"lua(
if not redis.call('SET', KEYS[1], ARGV[2], 'NX', 'EX', ARGV[1]) then
  return 0
end
operator_event(KEYS[2], KEYS[3], ARGV[2], ARGV[3], 'operator_notice',
  ARGV[4], ARGV[5], ARGV[6])
return 1
)lua";

// KEYS: 1 event hash, 2 operator event index. ARGV: 1 event id, 2 type,
// 3 now s, 4 now ms, 5 snapshot.
const char* operator_event_always_lua = R"lua(
operator_event(KEYS[1], KEYS[2], ARGV[1], ARGV[2], 'operator_notice',
  ARGV[3], ARGV[4], ARGV[5])
return 1
)lua";

// KEYS: 1 resolutions, 2 event hash, 3 operator event index. ARGV: 1 the
// difference's key, 2 resolution JSON, 3 event id, 4 type, 5 now s, 6 now
// ms, 7 event snapshot. Answers the resolution kept: this one, or the one
// made before.
const char* resolve_lua = R"lua(
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return {0, redis.call('HGET', KEYS[1], ARGV[1])}
end
operator_event(KEYS[2], KEYS[3], ARGV[3], ARGV[4], 'operator_notice',
  ARGV[5], ARGV[6], ARGV[7])
return {1, ARGV[2]}
)lua";

const redis::script& resolve_script() {
  static const auto s =
    redis::make_script("resolve_difference", operator_event_lua + resolve_lua);
  return s;
}

const redis::script& operator_event_always_script() {
  static const auto s = redis::make_script(
    "operator_event", operator_event_lua + operator_event_always_lua);
  return s;
}

const redis::script& operator_event_once_script() {
  static const auto s = redis::make_script(
    "operator_event_once", operator_event_lua + operator_event_once_lua);
  return s;
}

const redis::script& store_run_script() {
  static const auto s =
    redis::make_script("store_recon_run", operator_event_lua + store_run_lua);
  return s;
}

} // namespace

store_outcome store_run(redis::connection& conn, const recon_run& run,
                        const reports::redis_lease* lease) {
  auto& p = run.result.checked;
  std::vector<std::string> args{
    lease ? lease->owner() : "", run.id, std::to_string(run.started_s * 1000),
    std::to_string(run.finished_s), run.event, differences_event_type,
    run.event.empty() ? "" : event_snapshot(run).dump()};
  for (auto& [field, value] : to_fields(run)) {
    args.push_back(field);
    args.push_back(value);
  }
  auto out = redis::eval(
    conn, store_run_script(),
    {keys::recon_run(run.id), keys::recon_runs, keys::event(run.event),
     keys::operator_events,
     lease ? lease->key() : keys::recon_lease,
     keys::recon_period_done(p.from_s, p.to_s)},
    args);
  if (!out || out->is_error()) {
    return store_outcome::failed;
  }
  auto verdict = out->text();
  if (verdict == "stored") {
    return store_outcome::stored;
  }
  return verdict == "already_done" ? store_outcome::already_done
                                   : store_outcome::lease_lost;
}

bool operator_event_once(redis::connection& conn, const std::string& once_key,
                         int64_t once_ttl_s, const std::string& type,
                         const json& data) {
  auto id = crypto::new_id("evt_");
  auto now_ms = unix_now_ms();
  auto out = redis::eval(conn, operator_event_once_script(),
                         {once_key, keys::event(id), keys::operator_events},
                         {std::to_string(once_ttl_s), id, type,
                          std::to_string(now_ms / 1000),
                          std::to_string(now_ms), data.dump()});
  return out && !out->is_error() && out->integer == 1;
}

bool store_operator_event(redis::connection& conn, const std::string& type,
                          const json& data) {
  auto id = crypto::new_id("evt_");
  auto now_ms = unix_now_ms();
  auto out = redis::eval(conn, operator_event_always_script(),
                         {keys::event(id), keys::operator_events},
                         {id, type, std::to_string(now_ms / 1000),
                          std::to_string(now_ms), data.dump()});
  return out && !out->is_error();
}

std::optional<bool> period_done(redis::connection& conn, const period& p) {
  auto out = conn.query({"EXISTS", keys::recon_period_done(p.from_s, p.to_s)});
  if (!out) {
    return std::nullopt;
  }
  return out->integer == 1;
}

std::variant<json, report_failure> load_run(redis::connection& conn,
                                            const std::string& id) {
  auto rows = reports::read_hashes(conn, {keys::recon_run(id)});
  if (auto* f = std::get_if<report_failure>(&rows)) {
    return *f;
  }
  auto& fields = std::get<std::vector<reports::hash_fields>>(rows)[0];
  auto report = report_from_fields(fields);
  if (fields.empty() || report.is_discarded()) {
    return report_failure{report_failure::kind::not_found,
                          "No such reconciliation run: '" + id + "'"};
  }
  if (auto failed = add_resolutions(conn, report)) {
    return *failed;
  }
  return report;
}

std::string difference_key(const json& difference) {
  auto text = [&](const char* name) {
    auto it = difference.find(name);
    return it != difference.end() && it->is_string() ? it->get<std::string>()
                                                     : std::string{};
  };
  return text("kind") + "|" + text("network_line") + "|" + text("psp_txn")
         + "|" + text("side");
}

std::optional<report_failure> add_resolutions(redis::connection& conn,
                                              json& report) {
  auto& differences = report["differences"];
  if (!differences.is_array()) {
    differences = json::array();
  }
  size_t unresolved = 0;
  if (!differences.empty()) {
    std::vector<std::string> argv{"HMGET", keys::recon_resolutions};
    for (auto& d : differences) {
      argv.push_back(difference_key(d));
    }
    auto found = conn.query(argv);
    if (!found || found->elements.size() != differences.size()) {
      return reports::redis_failure(conn, keys::recon_resolutions);
    }
    for (size_t i = 0; i < differences.size(); ++i) {
      auto resolution =
        found->elements[i].is_nil()
          ? json(nullptr)
          : json::parse(found->elements[i].text(), nullptr, false);
      if (resolution.is_discarded()) {
        resolution = nullptr;
      }
      unresolved += resolution.is_null();
      differences[i]["resolution"] = std::move(resolution);
    }
  }
  report["unresolved"] = unresolved;
  return std::nullopt;
}

std::variant<json, report_failure>
resolve_difference(redis::connection& conn, const std::string& id,
                   size_t index, const std::string& note) {
  auto loaded = load_run(conn, id);
  if (auto* f = std::get_if<report_failure>(&loaded)) {
    return *f;
  }
  auto& report = std::get<json>(loaded);
  auto& differences = report["differences"];
  if (index >= differences.size()) {
    return report_failure{report_failure::kind::not_found,
                          "No such difference: run '" + id + "' lists "
                            + std::to_string(differences.size())};
  }
  auto difference = differences[index];
  difference.erase("resolution");
  json resolution{{"note", note},
                  {"resolved_at", unix_now_s()},
                  {"run", id},
                  {"difference", index}};
  auto key = difference_key(difference);
  json snapshot{{"run", id},
                {"difference", index},
                {"key", key},
                {"kind", difference.value("kind", "")},
                {"intent", difference.value("intent", json(nullptr))},
                {"note", note}};
  auto event_id = crypto::new_id("evt_");
  auto out = redis::eval(
    conn, resolve_script(),
    {keys::recon_resolutions, keys::event(event_id), keys::operator_events},
    {key, resolution.dump(), event_id, "reconciliation.difference_resolved",
     std::to_string(unix_now_s()), std::to_string(unix_now_ms()),
     snapshot.dump()});
  if (!out || !out->is_array() || out->elements.size() != 2) {
    return reports::redis_failure(conn, keys::recon_resolutions);
  }
  auto kept = json::parse(out->elements[1].text(), nullptr, false);
  if (out->elements[0].integer == 0) {
    auto before = kept.is_object() ? kept.value("note", "") : std::string{};
    return report_failure{report_failure::kind::conflict,
                          "This difference was resolved before (run '"
                            + (kept.is_object() ? kept.value("run", "")
                                                : std::string{})
                            + "'): " + before};
  }
  difference["resolution"] = kept;
  return difference;
}

std::variant<json, report_failure>
list_operator_events(redis::connection& conn, size_t limit) {
  auto ids = conn.query({"ZREVRANGE", keys::operator_events, "0",
                         std::to_string(limit - 1)});
  if (!ids) {
    return reports::redis_failure(conn, keys::operator_events);
  }
  std::vector<std::string> event_keys;
  for (auto& id : ids->elements) {
    event_keys.push_back(keys::event(id.text()));
  }
  auto rows = reports::read_hashes(conn, event_keys);
  if (auto* f = std::get_if<report_failure>(&rows)) {
    return *f;
  }
  auto data = json::array();
  auto& all = std::get<std::vector<reports::hash_fields>>(rows);
  for (size_t i = 0; i < all.size(); ++i) {
    auto& f = all[i];
    auto snapshot = json::parse(reports::text_field(f, "snapshot"), nullptr,
                                false);
    data.push_back(json{{"id", ids->elements[i].text()},
                        {"object", "event"},
                        {"type", reports::text_field(f, "type")},
                        {"audience", reports::text_field(f, "audience")},
                        {"created",
                         reports::int_field(f, "created").value_or(0)},
                        {"data", snapshot.is_discarded() ? json(nullptr)
                                                         : snapshot}});
  }
  return json{{"object", "list"},
              {"data", std::move(data)},
              {"url", "/admin/events"}};
}

std::variant<json, report_failure> list_runs(redis::connection& conn,
                                             size_t limit) {
  auto ids = conn.query({"ZREVRANGE", keys::recon_runs, "0",
                         std::to_string(limit - 1)});
  if (!ids) {
    return reports::redis_failure(conn, keys::recon_runs);
  }
  std::vector<std::string> run_keys;
  for (auto& id : ids->elements) {
    run_keys.push_back(keys::recon_run(id.text()));
  }
  auto rows = reports::read_hashes(conn, run_keys);
  if (auto* f = std::get_if<report_failure>(&rows)) {
    return *f;
  }
  auto data = json::array();
  for (auto& fields : std::get<std::vector<reports::hash_fields>>(rows)) {
    auto report = report_from_fields(fields);
    if (!report.is_discarded()) {
      report.erase("differences");
      data.push_back(std::move(report));
    }
  }
  return json{{"object", "list"},
              {"data", std::move(data)},
              {"url", "/admin/reconciliations"}};
}

} // namespace psp::recon
