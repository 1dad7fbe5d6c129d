#include "runtime/admin_recovery.hpp"

#include "actors/clock.hpp"
#include "adapters/crypto/random_id.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/redis_continuity.hpp"
#include "runtime/recon_store.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <set>

namespace psp::admin {

namespace {

using json = nlohmann::json;

// KEYS: 1 the intent, 2 sessions:expiring. ARGV: 1 a second ago (s).
// Its session (a key it names, decision 6), ended only while open: a paid
// or expired one is left. Answers {verdict, session}.
constexpr const char* end_session_lua = R"lua(
local cs = redis.call('HGET', KEYS[1], 'session')
if not cs or cs == '' then return {'no_session', ''} end
if redis.call('HGET', 'cs:' .. cs, 'status') ~= 'open' then
  return {'not_open', cs}
end
redis.call('HSET', 'cs:' .. cs, 'expires_at', ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[1], cs)
return {'ended', cs}
)lua";

// KEYS: 1 epoch, 2 recovery record, 3 sequence, 4 the recorded loss (gone:
// nodes adopt the accepted data set). ARGV: 1 the new epoch,
// 2 reason, 3 by. The sequence moves on too, so a node's next look is above
// anything the accepted data set held.
constexpr const char* accept_state_lua = R"lua(
local t = redis.call('TIME')
local previous = redis.call('GET', KEYS[1]) or ''
local loss = redis.call('HGET', KEYS[4], 'reason') or ''
redis.call('SET', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'epoch', ARGV[1], 'previous_epoch', previous,
           'accepted_at', t[1], 'accepted_at_us', t[1] .. string.format('%06d', tonumber(t[2])),
           'reason', ARGV[2], 'by', ARGV[3], 'loss', loss)
redis.call('INCR', KEYS[3])
redis.call('DEL', KEYS[4])
return previous
)lua";

} // namespace

int accept_redis_state_command(
  redis::connection& conn, const std::map<std::string, std::string>& opts,
  const std::string& by) {
  auto reason = opts.count("--reason") ? opts.at("--reason") : std::string{};
  if (reason.find_first_not_of(" \t") == std::string::npos) {
    std::cerr << "psp-admin: accept-redis-state needs --reason TEXT (what "
                 "was checked: kept with the accepted epoch)\n";
    return 2;
  }
  auto epoch = crypto::new_id("epoch_");
  auto previous = conn.query({"EVAL", accept_state_lua, "4",
                              redis::redis_epoch_key,
                              redis::redis_recovery_key,
                              redis::redis_sequence_key,
                              redis::redis_loss_key, epoch, reason, by});
  if (!previous || previous->is_error()) {
    std::cerr << "psp-admin: " << conn.last_error() << '\n';
    return 3;
  }
  auto before = previous->text();
  std::cout << json{{"epoch", epoch},
                    {"previous_epoch",
                     before.empty() ? json(nullptr) : json(before)}}
                 .dump(2)
            << '\n';
  return 0;
}

int end_reopened_sessions_command(
  redis::connection& conn, const std::map<std::string, std::string>& opts) {
  auto id = opts.count("--run") ? opts.at("--run") : std::string{};
  if (id.empty()) {
    std::cerr << "psp-admin: end-reopened-sessions needs --run RECON_ID (a "
                 "reconciliation run over the periods since the backup)\n";
    return 2;
  }
  auto run = recon::load_run(conn, id);
  if (auto* failed = std::get_if<report_failure>(&run)) {
    std::cerr << "psp-admin: " << failed->message << '\n';
    return failed->what == report_failure::kind::not_found ? 2 : 3;
  }
  std::set<std::string> intents;
  for (auto& d : std::get<json>(run).value("differences", json::array())) {
    if (d.value("kind", "") == "missing_at_psp"
        && d.value("intent", "").rfind("pi_", 0) == 0) {
      intents.insert(d.value("intent", ""));
    }
  }
  json ended = json::array();
  json not_open = json::array();
  json no_session = json::array();
  auto past_s = std::to_string(unix_now_s() - 1);
  for (auto& intent : intents) {
    auto done = conn.query({"EVAL", end_session_lua, "2", keys::intent(intent),
                            keys::sessions_expiring, past_s});
    if (!done || !done->is_array() || done->elements.size() != 2) {
      std::cerr << "psp-admin: " << conn.last_error() << '\n';
      return 3;
    }
    auto verdict = done->elements[0].text();
    if (verdict == "no_session") {
      no_session.push_back(intent); // an API payment: no page to pay again
      continue;
    }
    (verdict == "ended" ? ended : not_open)
      .push_back(json{{"session", done->elements[1].text()},
                      {"intent", intent}});
  }
  std::cout << json{{"run", id},
                    {"ended", ended},
                    {"not_open", not_open},
                    {"no_session", no_session}}
                 .dump(2)
            << '\n';
  return 0;
}

} // namespace psp::admin
