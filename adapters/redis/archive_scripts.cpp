#include "adapters/redis/archive_scripts.hpp"

namespace psp::redis {

// Must locate exactly as adapters/archive/archive_locator.cpp does.
const char* const archive_guard_lua = R"lua(
-- Pointer level L buckets by the first 2 + L hex digits of the id's SHA-1
-- and names it by the next 16 (adapters/archive/archive_locator.hpp).
local pointer_levels = 4
local function archive_pointer(digest, level)
  return 'arx:' .. string.sub(digest, 1, 2 + level),
    string.sub(digest, 3 + level, 18 + level)
end
local function archive_of(key)
  local prefix, id = string.match(key, '^(%a+):(.+)$')
  if prefix == 'pa' or prefix == 'evt' or prefix == 'txn'
      or prefix == 're' then
    local suffix = string.match(id, '([^_]*)$')
    if #suffix < 12 then return nil end
    local arc = 'arc:' .. string.sub(suffix, 1, 12)
    if redis.call('EXISTS', arc) == 1 then return arc end
  elseif prefix == 'pi' or prefix == 'cs' or prefix == 'charge' then
    local digest = redis.sha1hex(id)
    for level = 1, pointer_levels do
      local bucket, field = archive_pointer(digest, level)
      local arc_id = redis.call('HGET', bucket, field)
      if arc_id then return 'arc:' .. arc_id end
    end
  end
  return nil
end
local function archive_guard(key)
  if redis.call('EXISTS', key) == 0 then
    local arc = archive_of(key)
    if arc then error(redis.error_reply('ARCHIVED ' .. arc)) end
  end
end
)lua";

namespace {

// A taken entry moves to `archive:taking` as `<taken ms>|<entry>` until
// its pass finishes; one a pass never finished (its process died) is due
// again after stale_ms.
const char* archive_take_lua = R"lua(
local now, after, max, stale = tonumber(ARGV[1]), tonumber(ARGV[2]),
  tonumber(ARGV[3]), tonumber(ARGV[4])
-- Asked about again now: to the old end of the queue, due at once.
local back = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, max)
if #back > 0 then
  redis.call('ZREM', KEYS[3], unpack(back))
  for i, id in ipairs(back) do back[i] = (now - after) .. '|' .. id end
  redis.call('RPUSH', KEYS[1], unpack(back))
end
for _ = 1, 1000 do
  local oldest = redis.call('LINDEX', KEYS[2], -1)
  if not oldest then break end
  local at, entry = string.match(oldest, '^(%d+)|(.+)$')
  if at and tonumber(at) + stale > now then break end
  redis.call('RPOP', KEYS[2])
  if entry then redis.call('RPUSH', KEYS[1], entry) end
end
local out = {}
while #out < max do
  local oldest = redis.call('LINDEX', KEYS[1], -1)
  if not oldest then break end
  local at = string.match(oldest, '^(%d+)|.+$')
  if at and tonumber(at) + after > now then break end
  redis.call('RPOP', KEYS[1])
  if at then
    local taken = ARGV[1] .. '|' .. oldest
    redis.call('LPUSH', KEYS[2], taken)
    table.insert(out, taken)
  end
end
return out
)lua";

// Runs inside MULTI after WATCH of every key (archive_store.cpp): the
// fields packed are the fields stored, or EXEC does nothing.
const char* archive_commit_lua = R"lua(
-- New pointers go to the first level whose buckets are not yet ~420 full
-- on average (4,096 x 16^(L-1) buckets a level), so that each bucket stays
-- a listpack under hash-max-listpack-entries 512; the count only grows.
local written = tonumber(redis.call('GET', 'archive:pointers_written') or 0)
local function write_level()
  local below = 0
  for level = 1, pointer_levels - 1 do
    below = below + 4096 * 16 ^ (level - 1) * 420
    if written < below then return level end
  end
  return pointer_levels
end
local archived = 0
local i = 2
while i + 2 <= #ARGV do
  local arc_id, blob, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local keys, pointers = {}, {}
  local free = redis.call('EXISTS', 'arc:' .. arc_id) == 0
  local level = write_level()
  for k = 1, n do
    local key = ARGV[i + 2 + k]
    keys[k] = key
    local prefix, id = string.match(key, '^(%a+):(.+)$')
    if prefix == 'pi' or prefix == 'cs' or prefix == 'charge' then
      -- An id whose digits match a pointer's at its level or a lower one
      -- would read as the other (the payment then stays live). Levels only
      -- grow, so every pointer written before is at one of those.
      local digest = redis.sha1hex(id)
      for l = 1, level do
        local bucket, field = archive_pointer(digest, l)
        if redis.call('HEXISTS', bucket, field) == 1 then free = false end
      end
      local bucket, field = archive_pointer(digest, level)
      pointers[#pointers + 1] = {bucket, field}
    end
  end
  i = i + 3 + n
  if free and n > 0 then
    redis.call('SET', 'arc:' .. arc_id, blob)
    for _, p in ipairs(pointers) do redis.call('HSET', p[1], p[2], arc_id) end
    redis.call('DEL', unpack(keys))
    if #pointers > 0 then
      written = redis.call('INCRBY', 'archive:pointers_written', #pointers)
    end
    archived = archived + 1
  end
end
return archived
)lua";

const char* archive_dictionary_lua = R"lua(
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local id, made_of = string.match(cur, '^(%d+)|(%d+)$')
  if tonumber(made_of) >= tonumber(ARGV[3]) then
    return {id, redis.call('GET', 'arc:dict:' .. id), made_of}
  end
end
local id = tostring(redis.call('INCR', KEYS[2]))
redis.call('SET', 'arc:dict:' .. id, ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], id .. '|' .. ARGV[3])
return {id, ARGV[2], ARGV[3]}
)lua";

const char* archive_restore_lua = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local arc_id = string.sub(KEYS[1], 5)
local requeue
local i = 3
while i <= #ARGV do
  local key, n = ARGV[i], tonumber(ARGV[i + 1])
  if n > 0 and redis.call('EXISTS', key) == 0 then
    redis.call('HSET', key, unpack(ARGV, i + 2, i + 1 + n))
  end
  local prefix, id = string.match(key, '^(%a+):(.+)$')
  if prefix == 'pi' or prefix == 'cs' or prefix == 'charge' then
    local digest = redis.sha1hex(id)
    for level = 1, pointer_levels do
      local bucket, field = archive_pointer(digest, level)
      if redis.call('HGET', bucket, field) == arc_id then
        redis.call('HDEL', bucket, field)
      end
    end
  end
  -- The first object is the one its archive unit is queued by: a
  -- payment's intent, a refund, an expired session, an op (pa:).
  if i == 3 and (prefix == 'pi' or prefix == 're' or prefix == 'cs'
      or prefix == 'pa') then
    requeue = id
  end
  i = i + 2 + n
end
redis.call('DEL', KEYS[1])
if requeue then
  redis.call('LPUSH', 'archive:due', ARGV[2] .. '|' .. requeue)
end
return 1
)lua";

} // namespace

const script& archive_take_script() {
  static const script s = make_script("archive_take", archive_take_lua);
  return s;
}

const script& archive_commit_script() {
  static const script s = make_script(
    "archive_commit", std::string{archive_guard_lua} + archive_commit_lua);
  return s;
}

const script& archive_dictionary_script() {
  static const script s = make_script("archive_dictionary",
                                      archive_dictionary_lua);
  return s;
}

const script& archive_restore_script() {
  static const script s = make_script(
    "archive_restore", std::string{archive_guard_lua} + archive_restore_lua);
  return s;
}

} // namespace psp::redis
