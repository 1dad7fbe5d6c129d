#include "adapters/redis/scripts.hpp"

#include "adapters/crypto/encoding.hpp"

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


// KEYS: cs, pi, pa, payment stream. ARGV: now_s, nonce, attempt id, brand,
// last4, job bytes.
const char* confirm_attempt_lua = R"lua(
local cs = redis.call('HMGET', KEYS[1], 'status', 'expires_at')
if not cs[1] then return {'missing'} end
if cs[1] ~= 'open' then return {'not_open', cs[1]} end
if tonumber(cs[2]) <= tonumber(ARGV[1]) then return {'expired'} end
local pi = redis.call('HMGET', KEYS[2], 'status', 'attempt', 'confirm_nonce')
if pi[3] == ARGV[2] then return {'duplicate', pi[2]} end
if pi[1] == 'processing' then return {'processing', pi[2]} end
if pi[1] == 'succeeded' then return {'paid'} end
if pi[1] ~= 'requires_payment_method' then return {'not_open', pi[1]} end
redis.call('HSET', KEYS[3], 'intent', string.sub(KEYS[2], 4),
  'status', 'pending', 'brand', ARGV[4], 'last4', ARGV[5],
  'created', ARGV[1], 'job', ARGV[6])
redis.call('HSET', KEYS[2], 'status', 'processing', 'attempt', ARGV[3],
  'confirm_nonce', ARGV[2], 'card_brand', ARGV[4], 'card_last4', ARGV[5],
  'updated', ARGV[1])
redis.call('HDEL', KEYS[2], 'last_error_code', 'last_error_decline_code',
  'last_error_message')
redis.call('XADD', KEYS[4], '*', 'job', ARGV[6])
return {'ok', ARGV[3]}
)lua";

// KEYS: pi, pa, payment stream, event stream, ledger stream, balances,
// deliveries due, cs (may be "cs:" when there is no session).
// ARGV: group, entry id, attempt id, outcome (succeeded|failed), charge id,
// decline code, decline message, fee, transaction id, postings json,
// events json, now_s, now_ms, merchant id, error code (Stripe's `code`),
// fence token, processing node. KEYS[9]: the processing node's registration
// ("cluster:node:" when unfenced).
const char* commit_outcome_lua = R"lua(
if ARGV[16] ~= '' and redis.call('GET', KEYS[9]) ~= ARGV[16] then
  return redis.error_reply('FENCED this node lost its registration')
end
local function ack()
  redis.call('XACK', KEYS[3], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[3], ARGV[2])
end
local pa_status = redis.call('HGET', KEYS[2], 'status')
if pa_status ~= 'pending' then ack() return 0 end
if redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[3] then
  redis.call('HSET', KEYS[2], 'status', 'superseded')
  ack()
  return 0
end
local postings = cjson.decode(ARGV[10])
local debits, credits = 0, 0
for _, p in ipairs(postings) do
  if p[2] < 0 or p[3] < 0 then return redis.error_reply('NEGATIVE_POSTING') end
  debits = debits + p[2]
  credits = credits + p[3]
end
if debits ~= credits then return redis.error_reply('UNBALANCED') end
local events = cjson.decode(ARGV[11])
local now_s, now_ms, merchant = ARGV[12], ARGV[13], ARGV[14]
if ARGV[4] == 'succeeded' then
  local amount = redis.call('HGET', KEYS[1], 'amount')
  redis.call('HSET', KEYS[2], 'status', 'succeeded', 'charge', ARGV[5],
    'finished', now_s)
  redis.call('HSET', KEYS[1], 'status', 'succeeded', 'latest_charge',
    ARGV[5], 'amount_received', amount, 'fee', ARGV[8], 'updated', now_s,
    'processed_by', ARGV[17])
  if KEYS[8] ~= 'cs:' then
    redis.call('HSET', KEYS[8], 'status', 'complete', 'payment_status',
      'paid', 'completed', now_s)
  end
else
  redis.call('HSET', KEYS[2], 'status', 'failed', 'decline_code', ARGV[6],
    'finished', now_s)
  redis.call('HSET', KEYS[1], 'status', 'requires_payment_method',
    'last_error_code', ARGV[15], 'last_error_decline_code', ARGV[6],
    'last_error_message', ARGV[7], 'updated', now_s)
end
redis.call('HDEL', KEYS[2], 'job')
if #postings > 0 then
  redis.call('XADD', KEYS[5], '*', 'txn', ARGV[9], 'intent',
    string.sub(KEYS[1], 4), 'merchant', merchant, 'postings', ARGV[10],
    'created', now_s)
  for _, p in ipairs(postings) do
    redis.call('HINCRBY', KEYS[6], p[1], p[2] - p[3])
  end
end
local endpoints = redis.call('SMEMBERS', 'merchant:' .. merchant .. ':endpoints')
for _, e in ipairs(events) do
  local id, etype, object = e[1], e[2], e[3]
  local source = KEYS[1]
  if object == 'checkout.session' then source = KEYS[8] end
  local snapshot = redis.call('HGETALL', source)
  redis.call('HSET', 'evt:' .. id, 'type', etype, 'created', now_s,
    'merchant', merchant, 'object', object, 'snapshot', cjson.encode(snapshot))
  redis.call('ZADD', 'merchant:' .. merchant .. ':events', now_ms, id)
  redis.call('XADD', KEYS[4], '*', 'event', id, 'type', etype,
    'merchant', merchant)
  for _, ep in ipairs(endpoints) do
    local cfg = redis.call('HMGET', 'we:' .. ep, 'status', 'enabled_events')
    local wanted = ',' .. (cfg[2] or '') .. ','
    if cfg[1] == 'enabled' and (string.find(wanted, ',*,', 1, true)
        or string.find(wanted, ',' .. etype .. ',', 1, true)) then
      local did = id .. ':' .. ep
      redis.call('HSET', 'wh:' .. did, 'event', id, 'endpoint', ep,
        'attempts', 0, 'status', 'pending', 'created', now_s)
      redis.call('ZADD', KEYS[7], now_ms, did)
    end
  end
end
ack()
return 1
)lua";

// KEYS: payment stream, dead-letter stream, pa. ARGV: group, entry id,
// attempt id, reason, now_s, intent id.
const char* bury_payment_lua = R"lua(
if redis.call('HGET', KEYS[3], 'status') == 'pending' then
  redis.call('XADD', KEYS[2], '*', 'kind', 'payment', 'ref', ARGV[3],
    'intent', ARGV[6], 'reason', ARGV[4], 'created', ARGV[5])
  redis.call('HSET', KEYS[3], 'dead_lettered', ARGV[5])
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
)lua";

// KEYS: deliveries due. ARGV: now_ms, lease_ms, max.
const char* claim_deliveries_lua = R"lua(
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0,
  tonumber(ARGV[3]))
local out = {}
local lease_until = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, did in ipairs(ids) do
  local d = redis.call('HMGET', 'wh:' .. did, 'event', 'endpoint', 'attempts')
  local ep = redis.call('HMGET', 'we:' .. (d[2] or ''), 'url', 'secret',
    'status')
  local ev = redis.call('HMGET', 'evt:' .. (d[1] or ''), 'type', 'created',
    'object', 'snapshot')
  if not d[1] or not ep[1] or ep[3] ~= 'enabled' or not ev[1] then
    redis.call('ZREM', KEYS[1], did)
    redis.call('HSET', 'wh:' .. did, 'status', 'dropped')
  else
    redis.call('ZADD', KEYS[1], lease_until, did)
    table.insert(out, {did, d[1], d[2], d[3], ep[1], ep[2], ev[1], ev[2],
      ev[3], ev[4]})
  end
end
return out
)lua";

// KEYS: deliveries due, dead-letter stream. ARGV: delivery id, delivered
// (1|0), attempts, next attempt ms (-1: dead), last error, now_s.
const char* record_delivery_lua = R"lua(
local key = 'wh:' .. ARGV[1]
local status = redis.call('HGET', key, 'status')
if status ~= 'pending' then return 0 end
if ARGV[2] == '1' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HSET', key, 'status', 'delivered', 'attempts', ARGV[3],
    'delivered_at', ARGV[6])
elseif tonumber(ARGV[4]) >= 0 then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
  redis.call('HSET', key, 'attempts', ARGV[3], 'last_error', ARGV[5])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HSET', key, 'status', 'dead', 'attempts', ARGV[3],
    'last_error', ARGV[5])
  redis.call('XADD', KEYS[2], '*', 'kind', 'webhook', 'ref', ARGV[1],
    'reason', ARGV[5], 'created', ARGV[6])
end
return 1
)lua";

// KEYS: dead-letter stream, payment stream, deliveries due. ARGV: dead-letter
// entry id, now_ms, now_s.
const char* replay_dead_letter_lua = R"lua(
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #found == 0 then return {'missing'} end
local f = found[1][2]
local rec = {}
for i = 1, #f, 2 do rec[f[i]] = f[i + 1] end
if rec.kind == 'payment' then
  local job = redis.call('HGET', 'pa:' .. rec.ref, 'job')
  if not job then return {'final', rec.ref} end
  redis.call('HDEL', 'pa:' .. rec.ref, 'dead_lettered')
  redis.call('XADD', KEYS[2], '*', 'job', job)
elseif rec.kind == 'webhook' then
  redis.call('HSET', 'wh:' .. rec.ref, 'status', 'pending', 'attempts', 0)
  redis.call('ZADD', KEYS[3], ARGV[2], rec.ref)
else
  return {'unknown'}
end
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[1] .. ':replayed', '*', 'kind', rec.kind, 'ref',
  rec.ref, 'reason', rec.reason or '', 'replayed', ARGV[3])
return {'replayed', rec.kind, rec.ref}
)lua";

// KEYS: idempotency key. ARGV: fingerprint, lease ms, owner (this run),
// now ms, a fresh seed, ttl s. The key lives for the ttl; the claim is a
// lease inside it. A run whose lease expired (a crash) is taken over under
// the same seed, so the retry derives the same object ids.
const char* idempotency_claim_lua = R"lua(
local cur = redis.call('HMGET', KEYS[1], 'state', 'fingerprint', 'status',
  'body', 'content_type', 'lease_until', 'seed')
local lease_until = tonumber(ARGV[4]) + tonumber(ARGV[2])
if not cur[1] then
  redis.call('HSET', KEYS[1], 'state', 'running', 'fingerprint', ARGV[1],
    'owner', ARGV[3], 'lease_until', lease_until, 'seed', ARGV[5])
  redis.call('EXPIRE', KEYS[1], ARGV[6])
  return {'claimed', ARGV[5]}
end
if cur[2] ~= ARGV[1] then return {'mismatch'} end
if cur[1] == 'running' then
  if tonumber(cur[6]) > tonumber(ARGV[4]) then return {'in_use'} end
  redis.call('HSET', KEYS[1], 'owner', ARGV[3], 'lease_until', lease_until)
  return {'claimed', cur[7]}
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
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
)lua";

// KEYS: idempotency key. ARGV: fingerprint, owner.
const char* idempotency_release_lua = R"lua(
local cur = redis.call('HMGET', KEYS[1], 'state', 'fingerprint', 'owner')
if cur[1] == 'running' and cur[2] == ARGV[1] and cur[3] == ARGV[2] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
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

const script& confirm_attempt_script() {
  static const script s = make_script("confirm_attempt", confirm_attempt_lua);
  return s;
}

const script& commit_outcome_script() {
  static const script s = make_script("commit_outcome", commit_outcome_lua);
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

const script& record_delivery_script() {
  static const script s = make_script("record_delivery", record_delivery_lua);
  return s;
}

const script& replay_dead_letter_script() {
  static const script s = make_script("replay_dead_letter", replay_dead_letter_lua);
  return s;
}

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
  return out;
}

} // namespace psp::redis
