#pragma once

// Merchant API keys: generated once, shown once, stored only as a hash.

#include <string>
#include <string_view>

namespace psp::crypto {

/// Prefix of a test-mode secret key.
constexpr std::string_view secret_key_prefix = "sk_test_";

/// Length of the random part of a secret key: 32 * log2(62) ≈ 190 bits.
constexpr size_t secret_key_random_length = 32;

/// "sk_test_" followed by secret_key_random_length base62 characters.
std::string new_secret_key();

/// Lowercase hex SHA-256 of the key: the only form that is stored. A plain
/// hash suffices (no salt or stretching) because keys carry ~190 random bits
/// and cannot be guessed from a dictionary.
std::string api_key_hash(std::string_view key);

/// Whether `key` hashes to `stored_hash_hex` (as produced by api_key_hash),
/// compared in constant time.
bool api_key_matches(std::string_view key, std::string_view stored_hash_hex);

} // namespace psp::crypto
