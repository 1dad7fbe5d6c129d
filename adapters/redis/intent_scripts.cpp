#include "adapters/redis/archive_scripts.hpp"
#include "adapters/redis/lua_events.hpp"
#include "adapters/redis/scripts.hpp"

// The API's state changes on payment intents, refunds and sessions. Each
// validates the current state before its first write and, when the change
// needs the card network, queues the job in the same step.

namespace psp::redis {

namespace {

// KEYS: pi, the merchant's intents index. ARGV: 1 index score (ms), 2 the
// intent's id, 3.. its fields and values. Writes the intent only when none
// exists under that id, live or archived: an id derived from an
// Idempotency-Key is created once, even by a run that stalled and woke after
// another run took its key over and moved the payment on (decision 46).
const char* create_intent_lua = R"lua(
archive_guard(KEYS[1])
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
return 'created'
)lua";

// KEYS: pi, pa, payment stream. ARGV: 1 now_s, 2 attempt id, 3 brand,
// 4 last4, 5 job bytes, 6 op (charge|authorize), 7 payment method id,
// 8 exp_month, 9 exp_year (both "" for a test payment method: the expiry
// marks an attempt whose card is a PaymentMethod of its own, named after it),
// 10 receipt_email ("" keeps the intent's), 11 the card's billing details
// (compact JSON, "" none): on the attempt for its PaymentMethod, and on the
// intent for its charge (a later confirm's card replaces or clears them).
// An attempt that exists already was submitted by an earlier run of the same
// request (its id derives from the Idempotency-Key): {'submitted'}, and the
// caller answers its outcome; never written twice (decision 46).
const char* confirm_intent_lua = R"lua(
local pi = redis.call('HMGET', KEYS[1], 'status', 'session')
if not pi[1] then archive_guard(KEYS[1]) return {'missing'} end
if pi[2] and pi[2] ~= '' then return {'session'} end
archive_guard(KEYS[2])
if redis.call('EXISTS', KEYS[2]) == 1 then return {'submitted'} end
if pi[1] ~= 'requires_payment_method' and pi[1] ~= 'requires_confirmation' then
  return {'state', pi[1]}
end
redis.call('HSET', KEYS[2], 'intent', string.sub(KEYS[1], 4),
  'status', 'pending', 'kind', ARGV[6], 'brand', ARGV[3], 'last4', ARGV[4],
  'created', ARGV[1], 'job', ARGV[5])
if ARGV[8] ~= '' then
  redis.call('HSET', KEYS[2], 'exp_month', ARGV[8], 'exp_year', ARGV[9])
end
if ARGV[10] ~= '' then
  redis.call('HSET', KEYS[1], 'receipt_email', ARGV[10])
end
if ARGV[11] ~= '' then
  redis.call('HSET', KEYS[2], 'billing_details', ARGV[11])
  redis.call('HSET', KEYS[1], 'billing_details', ARGV[11])
else
  redis.call('HDEL', KEYS[1], 'billing_details')
end
redis.call('HSET', KEYS[1], 'status', 'processing', 'attempt', ARGV[2],
  'card_brand', ARGV[3], 'card_last4', ARGV[4], 'payment_method', ARGV[7],
  'updated', ARGV[1])
redis.call('HDEL', KEYS[1], 'last_error_code', 'last_error_decline_code',
  'last_error_message', 'last_error_payment_method', 'last_error_card')
redis.call('XADD', KEYS[3], '*', 'job', ARGV[5])
return {'ok'}
)lua";

// KEYS: 1 pi, 2 op record (pa:), 3 payment stream, 4 refund ("re:" unless a
// refund), 5 deliveries due.
// ARGV: 1 op (capture|void|refund), 2 op id, 3 amount, 4 job bytes, 5 now_s,
// 6 now_ms, 7 merchant, 8 refund reason, 9 metadata: a refund's, or for a
// capture the changes to the intent's ("{}" none, "clear", or an object whose
// empty values unset their keys; the merged result waits on the op record
// for the commit step of a successful capture), 10 event id of
// refund.created, 11 cancellation reason, 12 (refunds) the charge the job
// names.
// A refund whose job was built from a read older than the intent's latest
// commit (it names another charge than the intent's, or no amount: read
// while a confirm or capture was still committing) is {'stale', left,
// latest charge}: the caller builds it again from those, never sends it.
// An op (or refund) that exists already was requested by an earlier run of
// the same request (ids derive from the Idempotency-Key): {'requested'},
// and the caller answers its outcome; its amount is never reserved or
// booked twice (decision 46).
const std::string request_op_lua = std::string{delivery_record_lua} + emit_events_lua + R"lua(
local pi = redis.call('HMGET', KEYS[1], 'status', 'pending_op',
  'amount_capturable', 'amount_received', 'amount_refunded', 'refund_pending',
  'latest_charge', 'currency')
if not pi[1] then archive_guard(KEYS[1]) return {'missing'} end
local op, amount = ARGV[1], tonumber(ARGV[3])
archive_guard(KEYS[2])
if redis.call('EXISTS', KEYS[2]) == 1 then return {'requested'} end
if op == 'refund' then
  archive_guard(KEYS[4])
  if redis.call('EXISTS', KEYS[4]) == 1 then return {'requested'} end
end
local now_s, now_ms, merchant = ARGV[5], ARGV[6], ARGV[7]
if op == 'refund' then
  if pi[1] ~= 'succeeded' then return {'state', pi[1]} end
  local left = tonumber(pi[4] or '0') - tonumber(pi[5] or '0')
    - tonumber(pi[6] or '0')
  if left <= 0 then return {'refunded', pi[6] or '0'} end
  if (ARGV[12] and ARGV[12] ~= (pi[7] or '')) or amount <= 0 then
    return {'stale', tostring(left), pi[7] or ''}
  end
  if amount > left then return {'too_large', tostring(left)} end
  local id = string.sub(KEYS[4], 4)
  redis.call('HSET', KEYS[4], 'id', id, 'merchant', merchant,
    'amount', ARGV[3], 'currency', pi[8], 'payment_intent',
    string.sub(KEYS[1], 4), 'charge', pi[7] or '', 'status', 'pending',
    'reason', ARGV[8], 'metadata', ARGV[9], 'created', now_s)
  redis.call('HINCRBY', KEYS[1], 'refund_pending', amount)
  redis.call('ZADD', 'merchant:' .. merchant .. ':refunds', now_ms, id)
  emit_events({{ARGV[10], 'refund.created', 'refund'}}, merchant, now_s,
    now_ms, {refund = KEYS[4]}, KEYS[5])
else
  if pi[1] ~= 'requires_capture' then return {'state', pi[1]} end
  if pi[2] and pi[2] ~= ''
      and redis.call('HGET', 'pa:' .. pi[2], 'status') == 'pending' then
    return {'busy', pi[2]}
  end
  if op == 'capture' and amount > tonumber(pi[3] or '0') then
    return {'too_large', pi[3] or '0'}
  end
  if op == 'capture' and ARGV[9] ~= '{}' then
    local md = {}
    if ARGV[9] ~= 'clear' then
      md = cjson.decode(redis.call('HGET', KEYS[1], 'metadata') or '{}')
      local keys = 0
      for k, v in pairs(cjson.decode(ARGV[9])) do
        if v == '' then md[k] = nil else md[k] = v end
      end
      for _ in pairs(md) do keys = keys + 1 end
      if keys > 50 then return {'metadata'} end
    end
    -- Kept on the op: the commit step applies it if the capture succeeds.
    redis.call('HSET', KEYS[2], 'metadata',
      next(md) and cjson.encode(md) or '{}')
  end
  redis.call('HSET', KEYS[1], 'pending_op', ARGV[2], 'updated', now_s)
  if op == 'void' and ARGV[11] ~= '' then
    redis.call('HSET', KEYS[1], 'cancellation_reason', ARGV[11])
  end
end
redis.call('HSET', KEYS[2], 'intent', string.sub(KEYS[1], 4),
  'status', 'pending', 'kind', op, 'amount', ARGV[3], 'created', now_s,
  'job', ARGV[4])
redis.call('XADD', KEYS[3], '*', 'job', ARGV[4])
return {'ok'}
)lua";

// KEYS: pi, deliveries due. ARGV: now_s, now_ms, cancellation reason, event
// id, merchant, "1" to queue the canceled intent for the archive.
const std::string cancel_intent_lua = std::string{delivery_record_lua} + emit_events_lua + R"lua(
local pi = redis.call('HMGET', KEYS[1], 'status', 'session')
if not pi[1] then archive_guard(KEYS[1]) return {'missing'} end
if pi[2] and pi[2] ~= '' then return {'session'} end
if pi[1] ~= 'requires_payment_method' and pi[1] ~= 'requires_confirmation' then
  return {'state', pi[1]}
end
redis.call('HSET', KEYS[1], 'status', 'canceled', 'canceled_at', ARGV[1],
  'cancellation_reason', ARGV[3], 'updated', ARGV[1])
emit_events({{ARGV[4], 'payment_intent.canceled', 'payment_intent'}},
  ARGV[5], ARGV[1], ARGV[2], {payment_intent = KEYS[1]}, KEYS[2])
if ARGV[6] == '1' then
  redis.call('LPUSH', 'archive:due', ARGV[2] .. '|' .. string.sub(KEYS[1], 4))
end
return {'ok'}
)lua";

// KEYS: cs, pi, deliveries due, sessions by expiry. ARGV: now_s, now_ms,
// event id (evt_<session's random part>E), merchant. The session's expiry
// entry comes due now, so that the sweep (session_expiry.cpp) takes it out
// and queues it for the archive. Two events, as Stripe sends: the session's
// checkout.session.expired and its intent's payment_intent.canceled (the
// same id with X for E: archive_plan.cpp names both).
const std::string expire_session_lua = std::string{delivery_record_lua} + emit_events_lua + R"lua(
local cs = redis.call('HMGET', KEYS[1], 'status', 'expires_at')
if not cs[1] then archive_guard(KEYS[1]) return {'missing'} end
if cs[1] ~= 'open' then return {'state', cs[1]} end
-- A payment in flight keeps it open past expires_at too (the sweep waits
-- for it): say so rather than "expired" while it reads as open.
local pi_status = redis.call('HGET', KEYS[2], 'status')
if pi_status == 'processing' then return {'busy'} end
-- Past expires_at it reads as expired (lazy expiry): not open any more.
if tonumber(cs[2]) <= tonumber(ARGV[1]) then return {'state', 'expired'} end
redis.call('HSET', KEYS[1], 'status', 'expired', 'expired_at', ARGV[1],
  'expires_at', ARGV[1])
redis.call('HSET', KEYS[2], 'status', 'canceled', 'canceled_at', ARGV[1],
  'cancellation_reason', 'abandoned', 'updated', ARGV[1])
redis.call('ZADD', KEYS[4], 'XX', ARGV[1], string.sub(KEYS[1], 4))
emit_events({{ARGV[3], 'checkout.session.expired', 'checkout.session'},
    {string.sub(ARGV[3], 1, -2) .. 'X', 'payment_intent.canceled',
     'payment_intent'}},
  ARGV[4], ARGV[1], ARGV[2],
  {['checkout.session'] = KEYS[1], payment_intent = KEYS[2]}, KEYS[3])
return {'ok'}
)lua";

// KEYS: cs. Answers {session fields, intent fields} (flat HGETALL lists;
// empty when missing): the hosted page's view in one round trip, since the
// intent's id is only known from the session. Not guarded: a view of an
// archived session is read from the archive, never restored.
const char* load_session_view_lua = R"lua(
local cs = redis.call('HGETALL', KEYS[1])
if #cs == 0 then return {cs, {}} end
local intent = redis.call('HGET', KEYS[1], 'intent')
if not intent then return {cs, {}} end
return {cs, redis.call('HGETALL', 'pi:' .. intent)}
)lua";

// KEYS: 1 cs, 2 pi, 3 merchant sessions, 4 merchant intents, 5 the
// Idempotency-Key's record ("idem:" when none was sent), 6 the sessions
// by expiry (session_expiry.hpp). ARGV: 1 now (ms;
// also the index score), 2 number of session values n, 3 request
// fingerprint ("" without a key), 4 the session's mutable fields as created
// (a JSON object), 5 the key's ttl s, then n session field/value items, then
// the intent's field/value items.
// Under a key, a stored answer is replayed (or the key refused: another
// request's, or a run of an older node's in progress); otherwise session,
// intent, both index entries and the answer are written together, so no
// crash leaves objects without the answer that names them. The answer is
// stored by reference (decision 22): the session's key and its mutable
// fields as they were; a replay gets the session as it is now with those.
const char* create_session_lua = R"lua(
local keyed = ARGV[3] ~= ''
if keyed then
  local cur = redis.call('HMGET', KEYS[5], 'state', 'fingerprint', 'status',
    'body', 'content_type', 'lease_until', 'ref', 'as_created')
  if cur[1] then
    if cur[2] ~= ARGV[3] then return {'mismatch'} end
    if cur[1] == 'done' and cur[7] then
      archive_guard(cur[7])
      return {'replay_ref', cur[3], cur[7], cur[8],
        redis.call('HGETALL', cur[7])}
    end
    if cur[1] == 'done' then return {'replay', cur[3], cur[4], cur[5]} end
    if tonumber(cur[6]) > tonumber(ARGV[1]) then return {'in_use'} end
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
  return redis.error_reply('ID_TAKEN a new session id is in use')
end
local n = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], unpack(ARGV, 6, 5 + n))
redis.call('HSET', KEYS[2], unpack(ARGV, 6 + n, #ARGV))
redis.call('ZADD', KEYS[3], ARGV[1], string.sub(KEYS[1], 4))
redis.call('ZADD', KEYS[4], ARGV[1], string.sub(KEYS[2], 4))
redis.call('ZADD', KEYS[6], redis.call('HGET', KEYS[1], 'expires_at'),
  string.sub(KEYS[1], 4))
if keyed then
  redis.call('DEL', KEYS[5])
  redis.call('HSET', KEYS[5], 'state', 'done', 'fingerprint', ARGV[3],
    'status', '200', 'ref', KEYS[1], 'as_created', ARGV[4])
  redis.call('EXPIRE', KEYS[5], ARGV[5])
end
return {'created'}
)lua";

} // namespace

const script& create_session_script() {
  static const script s = make_script(
    "create_session", std::string{archive_guard_lua} + create_session_lua);
  return s;
}

const script& load_session_view_script() {
  static const script s = make_script("load_session_view",
                                      load_session_view_lua);
  return s;
}

const script& create_intent_script() {
  static const script s = make_script(
    "create_intent", std::string{archive_guard_lua} + create_intent_lua);
  return s;
}

const script& confirm_intent_script() {
  static const script s = make_script(
    "confirm_intent", std::string{archive_guard_lua} + confirm_intent_lua);
  return s;
}

const script& request_op_script() {
  static const script s = make_script(
    "request_op", std::string{archive_guard_lua} + request_op_lua);
  return s;
}

const script& cancel_intent_script() {
  static const script s = make_script(
    "cancel_intent", std::string{archive_guard_lua} + cancel_intent_lua);
  return s;
}

const script& expire_session_script() {
  static const script s = make_script(
    "expire_session", std::string{archive_guard_lua} + expire_session_lua);
  return s;
}

} // namespace psp::redis
