#pragma once

// Unpredictable bytes and identifiers from OpenSSL's CSPRNG.

#include <string>
#include <string_view>

namespace psp::crypto {

/// Length of the random part of new_id(): 24 * log2(62) ≈ 142.9 bits.
constexpr size_t id_random_length = 24;

/// `n` bytes from RAND_bytes. Aborts the process if the generator fails:
/// a PSP must never fall back to predictable ids, keys or nonces.
std::string random_bytes(size_t n);

/// `length` characters drawn uniformly from [0-9A-Za-z]. Uses rejection
/// sampling, so no character is more likely than another.
std::string random_base62(size_t length);

/// `prefix` followed by id_random_length base62 characters, e.g.
/// new_id("cs_test_") -> "cs_test_a1B2...".
std::string new_id(std::string_view prefix);

} // namespace psp::crypto
