#include "runtime/redis_lease.hpp"

#include "adapters/redis/scripts.hpp"

namespace psp::reports {

namespace {

// KEYS: lease. ARGV: owner, ttl ms.
const char* renew_lua = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
)lua";

// KEYS: lease. ARGV: owner.
const char* release_lua = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
)lua";

const redis::script& renew_script() {
  static const auto s = redis::make_script("lease_renew", renew_lua);
  return s;
}

const redis::script& release_script() {
  static const auto s = redis::make_script("lease_release", release_lua);
  return s;
}

} // namespace

std::optional<bool> redis_lease::acquire(redis::connection& conn) {
  auto set = conn.run({"SET", key_, owner_, "NX", "PX",
                       std::to_string(ttl_ms_)});
  if (!set || set->is_error()) {
    return std::nullopt;
  }
  if (!set->is_nil()) {
    return true;
  }
  return renew(conn); // ours from an earlier tick, or someone else's
}

std::optional<bool> redis_lease::renew(redis::connection& conn) {
  auto out = redis::eval(conn, renew_script(), {key_},
                         {owner_, std::to_string(ttl_ms_)});
  if (!out || out->is_error()) {
    return std::nullopt;
  }
  return out->integer == 1;
}

void redis_lease::release(redis::connection& conn) {
  redis::eval(conn, release_script(), {key_}, {owner_});
}

} // namespace psp::reports
