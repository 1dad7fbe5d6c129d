#pragma once

// MessagePack encoding of a payment job as stored in the payment stream and
// in its attempt record (for dead-letter replay). The stream entry id and the
// delivery count are not encoded: the stream supplies them on each read.
//
// Version 3 is two MessagePack objects back to back: the intent's *terms*
// (what is paid: intent, merchant, session, amount, currency, fees, the op)
// and the *step* (this attempt: its id, the sealed card, the network
// reference, the held amount). The split lets the hosted page's confirm
// script build a job in Redis from the intent it reads there
// (`confirm_attempt`, cmsgpack) and the step the node sends, so paying takes
// one round trip. Version 4 adds to the terms the hosted-page attempt's
// ordinal in its session, which the confirm script counts (it names the
// attempt at the card network: decision 70). Versions 1 and 2 (one array)
// and 3 still decode; a node older than version 4 leaves a version-4 entry
// pending (`undecodable_job`) for a newer node's reclaim.

#include "actors/messages.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace psp::redis {

std::string encode_job(const payment_job& job);

/// The step half of a version-3 job; the terms half comes from Redis.
std::string encode_job_step(const payment_job& job);

/// nullopt on malformed input (msgpack's exceptions stop here).
std::optional<payment_job> decode_job(std::string_view bytes);

} // namespace psp::redis
