#include "adapters/redis/scripts.hpp"

#include "adapters/crypto/encoding.hpp"
#include "adapters/redis/archive_scripts.hpp"
#include "adapters/redis/archive_store.hpp"
#include "adapters/redis/lua_events.hpp"
#include "adapters/redis/lua_partition.hpp"

#include <openssl/sha.h>

namespace psp::redis {

namespace {

std::string sha1_hex(const std::string& text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
       digest);
  return crypto::to_hex(
    std::string_view{reinterpret_cast<const char*>(digest), sizeof(digest)});
}

// KEYS: 1 cs, 2 pa (the new attempt). The job goes to its intent's payment
// stream partition (lua_partition.hpp), known only once the session is read.
// ARGV: 1 now_s, 2 form nonce, 3 attempt id, 4 brand, 5 last4, 6 the job's
// step bytes (job_codec.hpp), 7 the card's PaymentMethod id, 8 exp_month,
// 9 exp_year, 10 the card's billing details (compact JSON; "" or absent:
// none, and an earlier card's are cleared from the intent), 11 how many
// cards a session may try (absent: no limit; past it {'too_many'}: card
// testing). The intent is found from the session, and the job's terms
// are packed here from the intent's own fields, so the hosted page confirms
// in one round trip without reading first. The array is job_codec.cpp's
// terms_tuple, version 3; the op numbers are payment_op's (charge 0,
// authorize 1).
const char* confirm_attempt_lua = R"lua(
local cs = redis.call('HMGET', KEYS[1], 'status', 'expires_at', 'intent')
if not cs[1] then
  -- An archived session is closed (paid, or expired): the hosted page reads
  -- which from the archive, nothing is restored.
  if archive_of(KEYS[1]) then return {'not_open', 'archived'} end
  return {'missing'}
end
if cs[1] ~= 'open' then return {'not_open', cs[1]} end
if tonumber(cs[2]) <= tonumber(ARGV[1]) then return {'expired'} end
local pi_key = 'pi:' .. cs[3]
local pi = redis.call('HMGET', pi_key, 'status', 'attempt', 'confirm_nonce',
  'merchant', 'session', 'amount', 'currency', 'fee_bps', 'fee_fixed_minor',
  'capture_method', 'page_attempts', 'page_closed')
if pi[3] == ARGV[2] then return {'duplicate', pi[2]} end
if pi[1] == 'processing' then return {'processing', pi[2]} end
if pi[1] == 'succeeded' then return {'paid'} end
if pi[1] ~= 'requires_payment_method' then return {'not_open', pi[1]} end
-- The network holds an attempt for it that Redis lost (decision 70).
if pi[12] then return {'not_open', 'page_closed'} end
local tried = tonumber(pi[11]) or 0
if ARGV[11] and tried >= tonumber(ARGV[11]) then return {'too_many'} end
local amount, fee_bps, fee_fixed = tonumber(pi[6]), tonumber(pi[8]),
  tonumber(pi[9])
if not (pi[4] and pi[5] and pi[7] and amount and fee_bps and fee_fixed) then
  return redis.error_reply('BAD_INTENT ' .. pi_key .. ' lacks payment terms')
end
local manual = pi[10] == 'manual'
-- The attempt's ordinal names it at the card network (decision 70).
local job = cmsgpack.pack({4, cs[3], pi[4], pi[5], amount, pi[7], fee_bps,
  fee_fixed, manual and 1 or 0, tried + 1}) .. ARGV[6]
-- The billing details ride on the writes below: no command of their own.
local billing = ARGV[10] and ARGV[10] ~= '' and ARGV[10] or nil
local attempt = {'intent', cs[3], 'status', 'pending',
  'kind', manual and 'authorize' or 'charge', 'brand', ARGV[4],
  'last4', ARGV[5], 'created', ARGV[1], 'job', job, 'exp_month', ARGV[8],
  'exp_year', ARGV[9]}
local intent = {'status', 'processing', 'attempt', ARGV[3],
  'confirm_nonce', ARGV[2], 'card_brand', ARGV[4], 'card_last4', ARGV[5],
  'payment_method', ARGV[7], 'updated', ARGV[1], 'page_attempts', tried + 1}
local cleared = {'last_error_code', 'last_error_decline_code',
  'last_error_message', 'last_error_payment_method', 'last_error_card'}
if billing then
  table.insert(attempt, 'billing_details')
  table.insert(attempt, billing)
  table.insert(intent, 'billing_details')
  table.insert(intent, billing)
else
  table.insert(cleared, 'billing_details')
end
redis.call('HSET', KEYS[2], unpack(attempt))
redis.call('HSET', pi_key, unpack(intent))
redis.call('HDEL', pi_key, unpack(cleared))
redis.call('XADD', payment_stream_of(cs[3]), '*', 'job', job)
return {'ok', ARGV[3]}
)lua";

// KEYS: 1 pi, 2 op record (pa:), 3 payment stream, 4 ledger stream,
// 5 balances, 6 deliveries due, 7 cs ("cs:" when there is no session), 8 the
// processing node's registration ("cluster:node:" when unfenced), 9 refund
// ("re:" when the op is not a refund).
// ARGV: 1 group, 2 entry id, 3 attempt/op id, 4 op, 5 updates json
// [[record, field, value]], 6 increments json [[field, delta]], 7 transaction
// id, 8 postings json (the merchant's own accounts relative, as
// actors/ledger_account_names.hpp stores them), 9 events json, 10 now_s,
// 11 now_ms, 12 merchant id, 13 fence token, 14 balance type ("" when
// none), 15 balance source, 16 amount, 17 fee, 18 currency, 19 "1" to queue
// a paid charge, a finished refund, capture or void and its payment, or a
// declined attempt, for the archive (archive_scripts.hpp).
// Which fields change is decided by build_commit (C++, unit-tested); this
// step only guards, applies and appends, all or nothing.
const std::string commit_outcome_lua = std::string{delivery_record_lua} + emit_events_lua + R"lua(
if ARGV[13] ~= '' and redis.call('GET', KEYS[8]) ~= ARGV[13] then
  return redis.error_reply('FENCED this node lost its registration')
end
local function ack()
  redis.call('XACK', KEYS[3], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[3], ARGV[2])
end
if redis.call('HGET', KEYS[2], 'status') ~= 'pending' then ack() return 0 end
local op = ARGV[4]
if (op == 'charge' or op == 'authorize')
    and redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[3] then
  redis.call('HSET', KEYS[2], 'status', 'superseded')
  ack()
  return 0
end
local postings = cjson.decode(ARGV[8])
local debits, credits = 0, 0
for _, p in ipairs(postings) do
  if p[2] < 0 or p[3] < 0 then return redis.error_reply('NEGATIVE_POSTING') end
  if string.sub(p[1], 1, 1) == ':' and ARGV[12] == '' then
    return redis.error_reply('RELATIVE_ACCOUNT_WITHOUT_MERCHANT')
  end
  debits = debits + p[2]
  credits = credits + p[3]
end
if debits ~= credits then return redis.error_reply('UNBALANCED') end
local now_s, now_ms, merchant = ARGV[10], ARGV[11], ARGV[12]
local intent_id = string.sub(KEYS[1], 4)
local records = {intent = KEYS[1], op = KEYS[2]}
if KEYS[7] ~= 'cs:' then records.session = KEYS[7] end
if KEYS[9] ~= 're:' then records.refund = KEYS[9] end
local writes = {[KEYS[1]] = {'updated', now_s}, [KEYS[2]] = {'finished', now_s}}
local paid, declined = false, false
for _, u in ipairs(cjson.decode(ARGV[5])) do
  local key = records[u[1]]
  if u[1] == 'intent' and u[2] == 'status' and u[3] == 'succeeded' then
    paid = true
  elseif u[1] == 'op' and u[2] == 'status' and u[3] == 'failed' then
    declined = op == 'charge' or op == 'authorize'
  elseif key and u[1] == 'session' and u[2] == 'status'
      and u[3] == 'complete' then
    -- Paid: no expiry to sweep any more (keys::sessions_expiring).
    redis.call('ZREM', 'sessions:expiring', string.sub(key, 4))
  end
  if key then
    local v = u[3]
    if v == '$now' then v = now_s
    elseif v == '$payment_method' then
      v = redis.call('HGET', KEYS[1], 'payment_method') or ''
    elseif v == '$declined_card' then
      -- render::card_keys, in that order, joined by '|'
      local a = redis.call('HMGET', KEYS[2], 'brand', 'last4', 'exp_month',
        'exp_year', 'created')
      v = (a[1] or '') .. '|' .. (a[2] or '') .. '|' .. (a[3] or '') .. '|'
        .. (a[4] or '') .. '|' .. (a[5] or '')
    elseif v == '$op_metadata' then
      v = redis.call('HGET', KEYS[2], 'metadata') -- false: none asked for
    end
    if v then
      if u[1] == 'intent' and u[2] == 'latest_charge' then
        redis.call('HSET', 'charge:' .. v, 'intent', intent_id)
      end
      writes[key] = writes[key] or {}
      table.insert(writes[key], u[2])
      table.insert(writes[key], v)
    end
  end
end
for key, fv in pairs(writes) do redis.call('HSET', key, unpack(fv)) end
for _, inc in ipairs(cjson.decode(ARGV[6])) do
  redis.call('HINCRBY', KEYS[1], inc[1], inc[2])
end
redis.call('HDEL', KEYS[2], 'job')
if #postings > 0 then
  redis.call('XADD', KEYS[4], '*', 'txn', ARGV[7], 'intent', intent_id,
    'merchant', merchant, 'op', op, 'postings', ARGV[8], 'created', now_s)
  local own = 'merchant:' .. merchant
  for _, p in ipairs(postings) do
    local account = p[1]
    if string.sub(account, 1, 1) == ':' then account = own .. account end
    redis.call('HINCRBY', KEYS[5], account, p[2] - p[3])
    if string.sub(account, 1, #own + 1) == own .. ':' then
      redis.call('HINCRBY', own .. ':balances', account, p[2] - p[3])
    end
  end
end
if ARGV[14] ~= '' then
  redis.call('HSET', 'txn:' .. ARGV[7], 'id', ARGV[7], 'type', ARGV[14],
    'source', ARGV[15], 'amount', ARGV[16], 'fee', ARGV[17],
    'net', tostring(tonumber(ARGV[16]) - tonumber(ARGV[17])),
    'currency', ARGV[18], 'created', now_s, 'merchant', merchant,
    'intent', intent_id)
  redis.call('ZADD', 'merchant:' .. merchant .. ':balance_transactions',
    now_ms, ARGV[7])
end
emit_events(cjson.decode(ARGV[9]), merchant, now_s, now_ms,
  {payment_intent = KEYS[1], ['checkout.session'] = KEYS[7],
   refund = KEYS[9], charge = KEYS[1]}, KEYS[6])
if ARGV[19] == '1' and paid and op == 'charge' then
  redis.call('LPUSH', 'archive:due', now_ms .. '|' .. intent_id)
elseif ARGV[19] == '1' and declined then
  -- A declined card's attempt is final: archived apart from its payment.
  redis.call('LPUSH', 'archive:due', now_ms .. '|' .. ARGV[3])
elseif ARGV[19] == '1' and (op == 'capture' or op == 'void') then
  -- The op is final either way; a manual-capture payment it captured or
  -- canceled may be archived too.
  redis.call('LPUSH', 'archive:due', now_ms .. '|' .. intent_id,
    now_ms .. '|' .. ARGV[3])
elseif ARGV[19] == '1' and op == 'refund' then
  -- The refund is final either way, and its payment (live while the refund
  -- ran) may be archivable again.
  redis.call('LPUSH', 'archive:due', now_ms .. '|' .. intent_id,
    now_ms .. '|' .. string.sub(KEYS[9], 4))
end
ack()
return 1
)lua";

// KEYS: the single payment stream of releases before the partitions, the
// entry's partition stream. ARGV: group, entry id. Moves one job, or nothing
// when another node moved it first; the old stream goes once it is empty.
const char* move_legacy_job_lua = R"lua(
local found = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if #found == 0 then return 0 end
local f = found[1][2]
for i = 1, #f, 2 do
  if f[i] == 'job' then
    redis.call('XADD', KEYS[2], '*', 'job', f[i + 1])
  end
end
pcall(redis.call, 'XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if redis.call('XLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1]) end
return 1
)lua";

// KEYS: payment stream, dead-letter stream, pa, the burying node's
// registration ("cluster:node:" when unfenced). ARGV: group, entry id,
// attempt id, reason, now_s, intent id, fence token ("" unfenced). Fenced as
// the commit step is: a node that stalled past its registration lost the
// entry to another, which may still commit it; burying it then would delete
// the entry under the new owner.
const char* bury_payment_lua = R"lua(
if ARGV[7] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[7] then
  return redis.error_reply('FENCED this node lost its registration')
end
if redis.call('HGET', KEYS[3], 'status') == 'pending' then
  redis.call('XADD', KEYS[2], '*', 'kind', 'payment', 'ref', ARGV[3],
    'intent', ARGV[6], 'reason', ARGV[4], 'created', ARGV[5])
  redis.call('HSET', KEYS[3], 'dead_lettered', ARGV[5])
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
)lua";

// KEYS: deliveries due, claims (delivery -> node). ARGV: now_ms, lease_ms,
// max, node id. A delivery whose event, record or endpoint is gone (or
// disabled) is dropped. Each claim names its node, so that a node that died
// holding it can be released at once (release_deliveries) instead of after
// the lease.
const std::string claim_deliveries_lua = std::string{delivery_record_lua} + R"lua(
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0,
  tonumber(ARGV[3]))
local out = {}
local lease_until = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, did in ipairs(ids) do
  local event, endpoint = delivery_ids(did)
  local ev_key = 'evt:' .. (event or '')
  local ev = redis.call('HMGET', ev_key, 'type', 'created', 'object',
    'snapshot', delivery_field(endpoint or ''))
  local d = event and ev[1] and delivery_read(ev_key, endpoint, did, ev[5])
  local ep = redis.call('HMGET', 'we:' .. (endpoint or ''), 'url', 'secret',
    'status')
  if not d or not ep[1] or ep[3] ~= 'enabled' then
    redis.call('ZREM', KEYS[1], did)
    redis.call('HDEL', KEYS[2], did)
    if d then
      redis.call('HSET', ev_key, delivery_field(endpoint),
        delivery_encode('dropped', d.attempts, d.at_s, d.err))
    end
  else
    redis.call('ZADD', KEYS[1], lease_until, did)
    redis.call('HSET', KEYS[2], did, ARGV[4])
    table.insert(out, {did, event, endpoint, d.attempts, ep[1], ep[2], ev[1],
      ev[2], ev[3], ev[4]})
  end
end
return out
)lua";

// KEYS: deliveries due, dead-letter stream, claims. ARGV: now_s, then per
// outcome six values: delivery id, delivered (1|0), attempts, next attempt
// ms (-1: dead), last error, the claim's lease end (its token; 0: unfenced).
// Answers how many were recorded (a delivery no longer pending is skipped).
// A claim that lapsed (its node stalled past the lease) may have been taken
// again: its due score is then another lease, and only the current claim's
// failure counts, or a stale one would move the retry, count an attempt
// twice or bury a delivery the current claim may still get through. A
// stale success is recorded: the store has the event, whatever the current
// claim then does.
const std::string record_deliveries_lua = std::string{delivery_record_lua} + R"lua(
local recorded = 0
local now_s = ARGV[1]
for i = 2, #ARGV, 6 do
  local id, delivered, attempts, next_ms, err, lease_until = ARGV[i],
    ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  local event, endpoint = delivery_ids(id)
  local ev_key = 'evt:' .. (event or '')
  local d = event and delivery_read(ev_key, endpoint, id,
    redis.call('HGET', ev_key, delivery_field(endpoint)) or nil)
  local due = redis.call('ZSCORE', KEYS[1], id)
  local current = lease_until == '0'
    or (due and tonumber(due) == tonumber(lease_until))
  if current or delivered == '1' then
    redis.call('HDEL', KEYS[3], id)
  end
  if d and d.status == 'pending' and (current or delivered == '1') then
    recorded = recorded + 1
    local field = delivery_field(endpoint)
    if delivered == '1' then
      redis.call('ZREM', KEYS[1], id)
      redis.call('HSET', ev_key, field,
        delivery_encode('delivered', attempts, now_s, ''))
    elseif tonumber(next_ms) >= 0 then
      redis.call('ZADD', KEYS[1], next_ms, id)
      redis.call('HSET', ev_key, field,
        delivery_encode('pending', attempts, '', err))
    else
      redis.call('ZREM', KEYS[1], id)
      redis.call('HSET', ev_key, field,
        delivery_encode('dead', attempts, '', err))
      redis.call('XADD', KEYS[2], '*', 'kind', 'webhook', 'ref', id,
        'reason', err, 'created', now_s)
    end
  end
end
return recorded
)lua";

// KEYS: deliveries due, claims. ARGV: now_ms, node id. The deliveries that
// node claimed and never recorded (it died, or this is its next life) are
// due again now; a claim whose lease already ran out is due anyway. Sent
// twice at worst, with the same event id.
const std::string release_deliveries_lua = R"lua(
local claims = redis.call('HGETALL', KEYS[2])
local now, freed = tonumber(ARGV[1]), 0
for i = 1, #claims, 2 do
  if claims[i + 1] == ARGV[2] then
    local did = claims[i]
    local lease = redis.call('ZSCORE', KEYS[1], did)
    if lease and tonumber(lease) > now then
      redis.call('ZADD', KEYS[1], now, did)
      freed = freed + 1
    end
    redis.call('HDEL', KEYS[2], did)
  end
end
return freed
)lua";

// KEYS: dead-letter stream, deliveries due. ARGV: dead-letter entry id,
// now_ms, now_s. A payment job goes back to its intent's payment stream
// partition (lua_partition.hpp), known once the attempt is read. A webhook
// whose event is gone is final: nothing left to send; one whose endpoint
// was deleted has nowhere to go, and one whose endpoint is disabled would
// be dropped unsent (in both cases the entry stays, answered as such).
const std::string replay_dead_letter_lua = std::string{delivery_record_lua} + R"lua(
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #found == 0 then return {'missing'} end
local f = found[1][2]
local rec = {}
for i = 1, #f, 2 do rec[f[i]] = f[i + 1] end
if rec.kind == 'payment' then
  local pa = redis.call('HMGET', 'pa:' .. rec.ref, 'job', 'intent')
  if not pa[1] then return {'final', rec.ref} end
  redis.call('HDEL', 'pa:' .. rec.ref, 'dead_lettered')
  redis.call('XADD', payment_stream_of(pa[2]), '*', 'job', pa[1])
elseif rec.kind == 'webhook' then
  local event, endpoint = delivery_ids(rec.ref or '')
  local ev_key = 'evt:' .. (event or '')
  if event then archive_guard(ev_key) end
  if not event or redis.call('EXISTS', ev_key) == 0 then
    return {'final', rec.ref}
  end
  local ep_status = redis.call('HGET', 'we:' .. (endpoint or ''), 'status')
  if not ep_status then
    -- The endpoint was deleted: there is nowhere to send it.
    return {'endpoint_deleted', rec.ref}
  end
  if ep_status ~= 'enabled' then
    -- A claim would drop it: the entry stays until the endpoint is enabled.
    return {'endpoint_disabled', rec.ref}
  end
  delivery_read(ev_key, endpoint, rec.ref,
    redis.call('HGET', ev_key, delivery_field(endpoint)) or nil)
  redis.call('HSET', ev_key, delivery_field(endpoint),
    delivery_encode('pending', 0, '', ''))
  redis.call('ZADD', KEYS[2], ARGV[2], rec.ref)
else
  return {'unknown'}
end
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[1] .. ':replayed', '*', 'kind', rec.kind, 'ref',
  rec.ref, 'reason', rec.reason or '', 'replayed', ARGV[3])
return {'replayed', rec.kind, rec.ref}
)lua";

// KEYS: idempotency key. ARGV: fingerprint, lease ms, owner (this run),
// now ms, a fresh seed, ttl s, the claiming node's registration key ("" when
// not in a cluster). The key lives for the ttl; the claim is a lease inside
// it. A run whose lease expired (a crash) is taken over under the same seed,
// so the retry derives the same object ids. In a cluster the claim also
// records the node's registration as it was: once that changed or lapsed
// (the node died, or restarted and registered anew) the claim is taken over
// at once instead of after the lease (docs/decisions.md 33).
const char* idempotency_claim_lua = R"lua(
local cur = redis.call('HMGET', KEYS[1], 'state', 'fingerprint', 'status',
  'body', 'content_type', 'lease_until', 'seed', 'node_key', 'node_reg')
local lease_until = tonumber(ARGV[4]) + tonumber(ARGV[2])
local function claim(seed)
  redis.call('HSET', KEYS[1], 'state', 'running', 'fingerprint', ARGV[1],
    'owner', ARGV[3], 'lease_until', lease_until, 'seed', seed)
  local reg = ARGV[7] ~= '' and redis.call('GET', ARGV[7])
  if reg then
    redis.call('HSET', KEYS[1], 'node_key', ARGV[7], 'node_reg', reg)
  else
    redis.call('HDEL', KEYS[1], 'node_key', 'node_reg')
  end
  return {'claimed', seed}
end
if not cur[1] then
  local out = claim(ARGV[5])
  redis.call('EXPIRE', KEYS[1], ARGV[6])
  return out
end
if cur[2] ~= ARGV[1] then return {'mismatch'} end
if cur[1] == 'running' then
  local holder_alive = not cur[8] or redis.call('GET', cur[8]) == cur[9]
  if tonumber(cur[6]) > tonumber(ARGV[4]) and holder_alive then
    return {'in_use'}
  end
  return claim(cur[7])
end
return {'replay', cur[3], cur[4], cur[5]}
)lua";

// KEYS: idempotency key. ARGV: fingerprint, status, body, content type,
// ttl s, owner. Only the claim's owner stores; after its lease expired it
// still may, unless another run claimed the key meanwhile.
const char* idempotency_finish_lua = R"lua(
local cur = redis.call('HMGET', KEYS[1], 'state', 'fingerprint', 'owner')
if cur[1] and (cur[2] ~= ARGV[1] or cur[3] ~= ARGV[6]) then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'fingerprint', ARGV[1],
  'status', ARGV[2], 'body', ARGV[3], 'content_type', ARGV[4])
-- Only the answer is kept for the day: the lease is over.
redis.call('HDEL', KEYS[1], 'owner', 'lease_until', 'seed', 'node_key',
  'node_reg')
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
)lua";

// KEYS: idempotency key. ARGV: fingerprint, owner, "keep_seed" or "".
// Frees the owner's claim. With keep_seed only the lease ends: fingerprint
// and seed stay, so the next claim re-runs with the same derived ids.
const char* idempotency_release_lua = R"lua(
local cur = redis.call('HMGET', KEYS[1], 'state', 'fingerprint', 'owner')
if cur[1] == 'running' and cur[2] == ARGV[1] and cur[3] == ARGV[2] then
  if ARGV[3] == 'keep_seed' then
    redis.call('HSET', KEYS[1], 'lease_until', 0)
    redis.call('HDEL', KEYS[1], 'owner')
  else
    redis.call('DEL', KEYS[1])
  end
  return 1
end
return 0
)lua";

// KEYS: idempotency key. ARGV: fingerprint, owner, the fresh seed the claim
// brought. For a claim whose request gave up before it learnt whether the
// claim landed, so its handler never ran. 'freed' when the claim holds the
// key: dropped whole when it holds its own fresh seed (nothing was written
// under it), else only its lease ends and the earlier run's seed stays.
// 'settled' when the claim can no longer take the key (an answer stored,
// or other parameters under it). 'wait' while it still may: no key yet (the
// claim may be queued in a stalled Redis), or another run's lease that
// could lapse first.
const char* idempotency_abandon_lua = R"lua(
local cur = redis.call('HMGET', KEYS[1], 'state', 'fingerprint', 'owner',
  'seed')
if not cur[1] then return 'wait' end
if cur[1] ~= 'running' or cur[2] ~= ARGV[1] then return 'settled' end
if cur[3] ~= ARGV[2] then return 'wait' end
if cur[4] == ARGV[3] then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 'lease_until', 0)
  redis.call('HDEL', KEYS[1], 'owner')
end
return 'freed'
)lua";

} // namespace

script make_script(const char* name, std::string source) {
  auto sha = sha1_hex(source);
  return script{name, std::move(source), std::move(sha)};
}

const script& idempotency_claim_script() {
  static const script s = make_script("idempotency_claim", idempotency_claim_lua);
  return s;
}

const script& idempotency_finish_script() {
  static const script s = make_script("idempotency_finish", idempotency_finish_lua);
  return s;
}

const script& idempotency_release_script() {
  static const script s = make_script("idempotency_release", idempotency_release_lua);
  return s;
}

const script& idempotency_abandon_script() {
  static const script s = make_script("idempotency_abandon", idempotency_abandon_lua);
  return s;
}

const script& confirm_attempt_script() {
  static const script s =
    make_script("confirm_attempt", archive_guard_lua + payment_stream_lua()
                                     + confirm_attempt_lua);
  return s;
}

const script& commit_outcome_script() {
  static const script s = make_script("commit_outcome", commit_outcome_lua);
  return s;
}

const script& move_legacy_job_script() {
  static const script s = make_script("move_legacy_job", move_legacy_job_lua);
  return s;
}

const script& bury_payment_script() {
  static const script s = make_script("bury_payment", bury_payment_lua);
  return s;
}

const script& claim_deliveries_script() {
  static const script s = make_script("claim_deliveries", claim_deliveries_lua);
  return s;
}

const script& record_deliveries_script() {
  static const script s = make_script("record_deliveries",
                                      record_deliveries_lua);
  return s;
}

const script& release_deliveries_script() {
  static const script s = make_script("release_deliveries",
                                      release_deliveries_lua);
  return s;
}

const script& replay_dead_letter_script() {
  static const script s = make_script(
    "replay_dead_letter",
    archive_guard_lua + payment_stream_lua() + replay_dead_letter_lua);
  return s;
}

namespace {
constexpr int restores_max = 3;
} // namespace

std::optional<value> eval(connection& conn, const script& s,
                          const std::vector<std::string>& keys,
                          const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(s.sha1_hex);
  argv.push_back(std::to_string(keys.size()));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  auto out = conn.run(argv);
  if (out && out->is_error() && out->str.rfind("NOSCRIPT", 0) == 0) {
    argv[0] = "EVAL";
    argv[1] = s.source;
    out = conn.run(argv);
  }
  // A guarded script met an archived object: put the payment's hashes back
  // and run the step again (archive_scripts.hpp). The restore requeues the
  // unit, so an archiver with --psp.archive-after-s=0 may pack it again
  // between the two round trips: then once more, a bounded number of times.
  argv[0] = "EVALSHA";
  argv[1] = s.sha1_hex;
  for (int restores = 0; restores < restores_max; ++restores) {
    auto arc = out ? archived_error_key(*out) : std::nullopt;
    if (!arc) {
      break;
    }
    if (!restore_archive(conn, *arc)) {
      return std::nullopt;
    }
    out = conn.run(argv);
  }
  return out;
}

} // namespace psp::redis
