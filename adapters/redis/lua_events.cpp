#include "adapters/redis/lua_events.hpp"

namespace psp::redis {

// A webhook delivery (event, endpoint) is one field of its event's hash,
// `wh:<endpoint>` = `status|attempts|delivered_at_s|last_error`: a field
// costs tens of bytes where a hash of its own cost ~260 (docs/decisions.md
// 21). Its id, `<event>:<endpoint>`, names it in webhooks:due and in the
// dead-letter stream. Hashes `wh:<event>:<endpoint>` of earlier versions are
// moved into the event when first read.
const char* const delivery_record_lua = R"lua(
local function delivery_field(endpoint) return 'wh:' .. endpoint end
local function delivery_ids(did)
  return string.match(did, '^([^:]+):(.+)$')
end
local function delivery_encode(status, attempts, at_s, err)
  return status .. '|' .. attempts .. '|' .. at_s .. '|' .. err
end
local function delivery_decode(v)
  if not v then return nil end
  local status, attempts, at_s, err =
    string.match(v, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
  if not status then return nil end
  return {status = status, attempts = attempts, at_s = at_s, err = err}
end
-- The delivery `did` of event hash `ev_key`, given its field's value (nil:
-- look for a hash of an earlier version and move it into the event).
local function delivery_read(ev_key, endpoint, did, value)
  if value then return delivery_decode(value) end
  local old = redis.call('HMGET', 'wh:' .. did, 'status', 'attempts',
    'delivered_at', 'last_error')
  if not old[1] then return nil end
  local d = {status = old[1], attempts = old[2] or '0', at_s = old[3] or '',
    err = old[4] or ''}
  redis.call('HSET', ev_key, delivery_field(endpoint),
    delivery_encode(d.status, d.attempts, d.at_s, d.err))
  redis.call('DEL', 'wh:' .. did)
  return d
end
)lua";

// Snapshots leave out the bookkeeping fields no event renders (an event's
// object is rendered by adapters/render/objects.cpp from its snapshot):
// hundreds of bytes per event, and events are kept (docs/api.md).
const char* const emit_events_lua = R"lua(
local snapshot_skips = {merchant = true, merchant_name = true,
  line_items = true, session = true, fee_bps = true, fee_fixed_minor = true,
  attempt = true, confirm_nonce = true, updated = true, processed_by = true,
  fee = true, refund_pending = true, pending_op = true, job = true,
  page_attempts = true}
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
-- Each endpoint's configuration is read once per step, however many events
-- the step emits.
local function emit_events(events, merchant, now_s, now_ms, sources, due)
  if #events == 0 then return end
  local endpoints = redis.call('SMEMBERS',
    'merchant:' .. merchant .. ':endpoints')
  local wants = {}
  for _, ep in ipairs(endpoints) do
    local cfg = redis.call('HMGET', 'we:' .. ep, 'status', 'enabled_events')
    if cfg[1] == 'enabled' then wants[ep] = ',' .. (cfg[2] or '') .. ',' end
  end
  for _, e in ipairs(events) do
    local id, etype, object = e[1], e[2], e[3]
    local fields = {'type', etype, 'created', now_s, 'merchant', merchant,
      'object', object, 'snapshot', cjson.encode(snapshot_of(sources[object]))}
    local dids = {}
    for _, ep in ipairs(endpoints) do
      local wanted = wants[ep]
      if wanted and (string.find(wanted, ',*,', 1, true)
          or string.find(wanted, ',' .. etype .. ',', 1, true)) then
        fields[#fields + 1] = delivery_field(ep)
        fields[#fields + 1] = delivery_encode('pending', 0, '', '')
        dids[#dids + 1] = id .. ':' .. ep
      end
    end
    redis.call('HSET', 'evt:' .. id, unpack(fields))
    redis.call('ZADD', 'merchant:' .. merchant .. ':events', now_ms, id)
    for _, did in ipairs(dids) do
      redis.call('ZADD', due, now_ms, did)
    end
  end
end
)lua";

} // namespace psp::redis
