#include "adapters/redis/lua_events.hpp"

namespace psp::redis {

// Snapshots leave out the bookkeeping fields no event renders (an event's
// object is rendered by adapters/render/objects.cpp from its snapshot):
// hundreds of bytes per event, kept for 30 days.
const char* const emit_events_lua = R"lua(
local snapshot_skips = {merchant = true, merchant_name = true,
  line_items = true, session = true, fee_bps = true, fee_fixed_minor = true,
  attempt = true, confirm_nonce = true, updated = true, processed_by = true,
  fee = true, refund_pending = true, pending_op = true, job = true}
local function snapshot_of(key)
  local all, kept = redis.call('HGETALL', key), {}
  for i = 1, #all, 2 do
    if not snapshot_skips[all[i]] then
      kept[#kept + 1] = all[i]
      kept[#kept + 1] = all[i + 1]
    end
  end
  return kept
end
local function emit_events(events, merchant, now_s, now_ms, sources,
                           event_stream, due)
  if #events == 0 then return end
  local endpoints = redis.call('SMEMBERS',
    'merchant:' .. merchant .. ':endpoints')
  for _, e in ipairs(events) do
    local id, etype, object = e[1], e[2], e[3]
    local snapshot = snapshot_of(sources[object])
    redis.call('HSET', 'evt:' .. id, 'type', etype, 'created', now_s,
      'merchant', merchant, 'object', object, 'snapshot',
      cjson.encode(snapshot))
    redis.call('ZADD', 'merchant:' .. merchant .. ':events', now_ms, id)
    -- Nothing consumes the stream yet (docs/decisions.md): keep it bounded;
    -- the events themselves live in their evt: hashes.
    redis.call('XADD', event_stream, 'MAXLEN', '~', 100000, '*', 'event', id,
      'type', etype, 'merchant', merchant)
    for _, ep in ipairs(endpoints) do
      local cfg = redis.call('HMGET', 'we:' .. ep, 'status', 'enabled_events')
      local wanted = ',' .. (cfg[2] or '') .. ','
      if cfg[1] == 'enabled' and (string.find(wanted, ',*,', 1, true)
          or string.find(wanted, ',' .. etype .. ',', 1, true)) then
        local did = id .. ':' .. ep
        redis.call('HSET', 'wh:' .. did, 'event', id, 'endpoint', ep,
          'attempts', 0, 'status', 'pending', 'created', now_s)
        redis.call('ZADD', due, now_ms, did)
      end
    end
  end
end
)lua";

} // namespace psp::redis
