#pragma once

// Message digests and comparisons that do not leak timing.

#include <string>
#include <string_view>

namespace psp::crypto {

/// Size in bytes of a SHA-256 digest and of an HMAC-SHA256 tag.
constexpr size_t sha256_size = 32;

/// SHA-256 of `data`: 32 raw bytes.
std::string sha256(std::string_view data);

/// HMAC-SHA256 of `message` under `key`: 32 raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view message);

/// Compares without an early exit on the first differing byte, so the time
/// taken does not tell an attacker how much of a guessed signature matched.
/// Different lengths return false at once: lengths are not secret here.
bool constant_time_equal(std::string_view a, std::string_view b);

} // namespace psp::crypto
