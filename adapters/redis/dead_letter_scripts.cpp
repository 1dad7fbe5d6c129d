#include "adapters/redis/scripts.hpp"

// Discarding a dead letter: the operator's way out for an entry that can
// never be replayed (its endpoint was deleted) or need not be (final). The
// replay step stays in scripts.cpp with the other delivery steps.

namespace psp::redis {

namespace {

// KEYS: dead-letter stream, the stream of discarded entries. ARGV: entry id,
// force ('1' or '0'), now_s, how many discarded entries to keep (about).
// A payment step whose attempt is still pending never got a definite answer
// from the network: its money may or may not have moved, and the step stays
// pending (its intent processing, a refund pending) until a replay asks the
// network again. Discarding it would leave it so for good: it takes force;
// every other entry (a webhook, a payment step that is final by now) goes as
// asked. The entry's fields are answered either way (a refused one's with
// the step's kind: charge, capture, refund...), and a discard is kept
// in the second stream with when and whether it was forced: who resolves
// the payment by hand later needs its attempt and intent.
const char* discard_dead_letter_lua = R"lua(
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #found == 0 then return {'missing'} end
local f = found[1][2]
local rec = {}
for i = 1, #f, 2 do rec[f[i]] = f[i + 1] end
local step = rec.kind == 'payment'
  and redis.call('HMGET', 'pa:' .. (rec.ref or ''), 'status', 'kind')
local unresolved = step and step[1] == 'pending'
if unresolved and ARGV[2] ~= '1' then
  return {'unresolved', f, step[2] or ''}
end
redis.call('XDEL', KEYS[1], ARGV[1])
if unresolved then
  -- Nothing can replay the step now: its sealed card goes (kept for good
  -- otherwise: the card data audit).
  redis.call('HDEL', 'pa:' .. rec.ref, 'job')
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'entry', ARGV[1],
  'discarded', ARGV[3], 'forced', unresolved and '1' or '0', unpack(f))
return {'discarded', f, unresolved and '1' or '0'}
)lua";

} // namespace

const script& discard_dead_letter_script() {
  static const script s = make_script("discard_dead_letter",
                                      discard_dead_letter_lua);
  return s;
}

} // namespace psp::redis
