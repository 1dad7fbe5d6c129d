#pragma once

// Stored Idempotency-Key answers, compressed: an API answer is kept for a
// day (decision 22), and a PaymentIntent's JSON is ~600 B, most of it field
// names and shapes every answer shares. zstd primed with a fixed template of
// such answers stores about a third of it (620 B -> 200 B in
// archive_test). Pure: no Redis.

#include <optional>
#include <string>
#include <string_view>

namespace psp::archive {

/// What to store for `body`: compressed (a NUL and a format tag first, which
/// no JSON answer starts with) when that is smaller, else `body` itself.
std::string pack_answer(const std::string& body);

/// The answer stored as `stored`: unpacked, or as is when it was stored
/// plain (short answers, and those of earlier releases). nullopt when a
/// packed answer cannot be read (damaged).
std::optional<std::string> unpack_answer(std::string_view stored);

} // namespace psp::archive
