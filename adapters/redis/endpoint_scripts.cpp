#include "adapters/redis/scripts.hpp"

// Webhook endpoint writes. A run of a keyed request can outlive its claim
// (a node stalled past its lease) and wake after the retry took the key over
// and the merchant went on; its writes must not undo what came after
// (decision 46).

namespace psp::redis {

namespace {

// KEYS: we:<id>, the merchant's endpoint set, the id's deletion mark.
// ARGV: 1 id, 2 the most endpoints a merchant may have, 3.. the endpoint's
// fields and values. An endpoint whose id derives from an Idempotency-Key
// is created once: an earlier run of the request may have written it (and
// it may have been updated since: left as it is), or written and deleted
// it ('deleted'; the mark lives as long as the key's stored answer). A new
// endpoint beyond the cap is 'too_many': counted here, in the step that
// adds, so concurrent creates cannot pass it together (decision 48).
// Answers the endpoint as it is (HGETALL).
const char* create_endpoint_lua = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  if redis.call('EXISTS', KEYS[3]) == 1 then return 'deleted' end
  if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[2]) then
    return 'too_many'
  end
  redis.call('HSET', KEYS[1], unpack(ARGV, 3))
  redis.call('SADD', KEYS[2], ARGV[1])
end
return redis.call('HGETALL', KEYS[1])
)lua";

// KEYS: we:<id>. ARGV: 1 merchant, 2.. fields and values to set. The
// endpoint as it is after the change, or 'missing' when it is not the
// merchant's (any more): an update racing a delete never brings back a
// hash without its secret.
const char* update_endpoint_lua = R"lua(
if redis.call('HGET', KEYS[1], 'merchant') ~= ARGV[1] then return 'missing' end
if #ARGV > 1 then redis.call('HSET', KEYS[1], unpack(ARGV, 2)) end
return redis.call('HGETALL', KEYS[1])
)lua";

} // namespace

const script& create_endpoint_script() {
  static const script s = make_script("create_endpoint", create_endpoint_lua);
  return s;
}

const script& update_endpoint_script() {
  static const script s = make_script("update_endpoint", update_endpoint_lua);
  return s;
}

} // namespace psp::redis
