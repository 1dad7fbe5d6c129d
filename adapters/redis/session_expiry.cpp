#include "adapters/redis/session_expiry.hpp"

#include "adapters/redis/keys.hpp"
#include "adapters/redis/lua_events.hpp"
#include "adapters/redis/scripts.hpp"

#include <string>
#include <vector>

namespace psp::redis {

namespace {

// KEYS: 1 sessions:expiring, 2 deliveries due. ARGV: 1 now_s, 2 now_ms,
// 3 max, 4 "1" to queue expired sessions for the archive, 5 busy retry s.
// Does what the expire endpoint does (intent_scripts.cpp), under the same
// event ids (evt_ + the session's random part + E, and + X for its intent's
// payment_intent.canceled), so a session is expired once whichever runs
// first. A score that is not the session's expires_at
// any more (the endpoint sets it to now) is only a reminder to look.
const std::string expire_due_sessions_lua = std::string{delivery_record_lua} + emit_events_lua + R"lua(
local now_s = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_s, 'LIMIT', 0,
  tonumber(ARGV[3]))
local expired, queued = 0, 0
for _, id in ipairs(due) do
  local cs_key = 'cs:' .. id
  local cs = redis.call('HMGET', cs_key, 'status', 'expires_at', 'intent',
    'merchant')
  local look_again
  if cs[1] == 'open' then
    local pi_key = 'pi:' .. (cs[3] or '')
    if (tonumber(cs[2]) or 0) > now_s then
      look_again = tonumber(cs[2])
    elseif redis.call('HGET', pi_key, 'status') == 'processing' then
      look_again = now_s + tonumber(ARGV[5])
    else
      redis.call('HSET', cs_key, 'status', 'expired', 'expired_at', ARGV[1])
      if cs[3] then
        redis.call('HSET', pi_key, 'status', 'canceled', 'canceled_at',
          ARGV[1], 'cancellation_reason', 'abandoned', 'updated', ARGV[1])
      end
      if cs[4] then
        local events = {{'evt_' .. string.match(id, '([^_]*)$') .. 'E',
          'checkout.session.expired', 'checkout.session'}}
        if cs[3] then
          events[2] = {'evt_' .. string.match(id, '([^_]*)$') .. 'X',
            'payment_intent.canceled', 'payment_intent'}
        end
        emit_events(events, cs[4], ARGV[1], ARGV[2],
          {['checkout.session'] = cs_key, payment_intent = pi_key}, KEYS[2])
      end
      expired = expired + 1
      cs[1] = 'expired'
    end
  end
  if look_again then
    redis.call('ZADD', KEYS[1], look_again, id)
  else
    -- Expired, complete, or gone: nothing more to wait for.
    redis.call('ZREM', KEYS[1], id)
    if cs[1] == 'expired' and ARGV[4] == '1' then
      redis.call('LPUSH', 'archive:due', ARGV[2] .. '|' .. id)
      queued = queued + 1
    end
  end
end
return {#due, expired, queued}
)lua";

const script& expire_due_sessions_script() {
  static const script s = make_script("expire_due_sessions",
                                      expire_due_sessions_lua);
  return s;
}

} // namespace

expiry_sweep expire_due_sessions(connection& conn, int64_t now_ms, size_t max,
                                 bool queue_for_archive) {
  expiry_sweep sweep;
  auto got = eval(conn, expire_due_sessions_script(),
                  {keys::sessions_expiring, keys::deliveries_due},
                  {std::to_string(now_ms / 1000), std::to_string(now_ms),
                   std::to_string(max), queue_for_archive ? "1" : "0",
                   std::to_string(expiry_busy_retry_s)});
  if (!got || got->is_error() || got->elements.size() != 3) {
    sweep.failed = true;
    return sweep;
  }
  sweep.due = static_cast<size_t>(got->elements[0].integer);
  sweep.expired = static_cast<size_t>(got->elements[1].integer);
  sweep.queued = static_cast<size_t>(got->elements[2].integer);
  return sweep;
}

expiry_backfill backfill_session_expiry(connection& conn) {
  expiry_backfill out;
  std::string cursor = "0";
  do {
    auto page = conn.query({"SCAN", cursor, "MATCH", "cs:*", "COUNT", "1000"});
    if (!page || page->elements.size() != 2) {
      out.failed = true;
      return out;
    }
    cursor = page->elements[0].text();
    std::vector<std::vector<std::string>> reads;
    std::vector<std::string> ids;
    for (auto& key : page->elements[1].elements) {
      reads.push_back({"HMGET", key.text(), "status", "expires_at"});
      ids.push_back(key.text().substr(3));
    }
    out.seen += ids.size();
    if (reads.empty()) {
      continue;
    }
    auto fields = conn.query_all(reads);
    if (!fields) {
      out.failed = true;
      return out;
    }
    std::vector<std::vector<std::string>> adds;
    for (size_t i = 0; i < ids.size(); ++i) {
      auto& f = (*fields)[i].elements;
      if (f.size() == 2 && f[0].text() == "open" && !f[1].is_nil()) {
        adds.push_back({"ZADD", keys::sessions_expiring, "NX", f[1].text(),
                        ids[i]});
      }
    }
    if (!adds.empty()) {
      auto done = conn.query_all(adds);
      if (!done) {
        out.failed = true;
        return out;
      }
      for (auto& d : *done) {
        out.added += static_cast<size_t>(d.integer);
      }
    }
  } while (cursor != "0");
  return out;
}

} // namespace psp::redis
