#pragma once

// MessagePack encoding of a payment job as stored in the payment stream and
// in its attempt record (for dead-letter replay). The stream entry id and the
// delivery count are not encoded: the stream supplies them on each read.

#include "actors/messages.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace psp::redis {

std::string encode_job(const payment_job& job);

/// nullopt on malformed input (msgpack's exceptions stop here).
std::optional<payment_job> decode_job(std::string_view bytes);

} // namespace psp::redis
