#include "runtime/admin_keys.hpp"

#include "actors/clock.hpp"
#include "adapters/crypto/api_key.hpp"
#include "adapters/redis/keys.hpp"

#include <iostream>

namespace psp::admin {

namespace {

constexpr int exit_usage = 2;
constexpr int exit_unreachable = 3;

/// A year: longer overlaps are a key that was never rolled.
constexpr int64_t expire_old_s_max = 366LL * 24 * 3600;

// KEYS: merchant, new key's apikey entry. ARGV: merchant id, new key hash,
// seconds the old key still works (0: revoked now), now (s). One step, so
// two rolls at once cannot both keep the old key or leave a key without its
// merchant. The merchant keeps the old key's hash and its end
// (previous_key_hash, previous_key_until) only for an overlap; its apikey
// entry (keys::api_key: 'apikey:<hash>') lapses with it. Answers 'rolled' or
// 'missing'.
const char* roll_key_lua = R"lua(
local old = redis.call('HGET', KEYS[1], 'key_hash')
if not old then return 'missing' end
redis.call('INCR', 'merchants:generation') -- nodes drop cached keys
redis.call('SET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'key_hash', ARGV[2])
local old_key = 'apikey:' .. old
local overlap_s = tonumber(ARGV[3])
if overlap_s > 0 then
  redis.call('HSET', KEYS[1], 'previous_key_hash', old, 'previous_key_until',
    tonumber(ARGV[4]) + overlap_s)
  redis.call('EXPIRE', old_key, overlap_s)
else
  redis.call('HDEL', KEYS[1], 'previous_key_hash', 'previous_key_until')
  redis.call('DEL', old_key)
end
return 'rolled'
)lua";

int fail(const std::string& reason, int code) {
  std::cerr << "psp-admin: " << reason << '\n';
  return code;
}

} // namespace

int roll_key_command(redis::connection& conn,
                     const std::map<std::string, std::string>& opts) {
  auto find = [&](const char* flag) {
    auto i = opts.find(flag);
    return i == opts.end() ? std::string{} : i->second;
  };
  auto merchant = find("--merchant");
  if (merchant.rfind("acct_", 0) != 0) {
    return fail("roll-key needs --merchant acct_...", exit_usage);
  }
  int64_t expire_old_s = 0;
  if (opts.count("--expire-old-s") != 0) {
    // Given but empty (an unset variable in a script) is an error, not
    // "revoke now": that would cut the merchant off.
    auto text = find("--expire-old-s");
    bool digits = !text.empty() && text.size() <= 8
                  && text.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoll(text) > expire_old_s_max) {
      return fail("--expire-old-s must be whole seconds from 0 to "
                    + std::to_string(expire_old_s_max),
                  exit_usage);
    }
    expire_old_s = std::stoll(text);
  }
  auto key = crypto::new_secret_key();
  auto hash = crypto::api_key_hash(key);
  auto now_s = unix_now_s();
  auto res = conn.query({"EVAL", roll_key_lua, "2", keys::merchant(merchant),
                         keys::api_key(hash), merchant, hash,
                         std::to_string(expire_old_s), std::to_string(now_s)});
  if (!res || res->is_error()) {
    return fail("cannot roll the key in Redis: "
                  + (res ? res->str : conn.last_error()),
                exit_unreachable);
  }
  if (res->text() == "missing") {
    return fail("no merchant " + merchant, exit_usage);
  }
  std::cout << "{\"merchant\": \"" << merchant << "\", \"secret_key\": \""
            << key << "\", \"old_key_expires_at\": "
            << (expire_old_s > 0 ? std::to_string(now_s + expire_old_s)
                                 : std::string{"null"})
            << "}" << std::endl;
  return 0;
}

} // namespace psp::admin
