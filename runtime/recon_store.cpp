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
  return report;
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
