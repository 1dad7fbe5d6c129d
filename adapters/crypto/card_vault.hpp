#pragma once

// Authenticated encryption (AES-256-GCM) of card numbers at rest.

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace psp::crypto {

/// Seals and opens small secrets such as PANs with one 256-bit key.
///
/// A sealed value is base64(nonce | ciphertext | tag) with a fresh random
/// 12-byte nonce per call and a 16-byte tag. The associated data is
/// authenticated but not stored: pass something that binds the ciphertext to
/// its owner (e.g. the payment method id) so a sealed PAN copied onto another
/// record fails to open.
///
/// Random nonces are safe for up to about 2^32 seals per key; rotate keys
/// long before that. Plaintexts are never logged or printed by this class.
class card_vault {
public:
  static constexpr size_t key_size = 32;
  static constexpr size_t nonce_size = 12;
  static constexpr size_t tag_size = 16;

  /// Upper bound on a plaintext; sealing more is a programmer error.
  static constexpr size_t plaintext_size_max = 64 * 1024;

  /// A vault for a key written as exactly 64 hex digits (32 bytes); nullopt
  /// on any other length or a non-hex character.
  static std::optional<card_vault> from_hex_key(std::string_view hex64);

  card_vault(const card_vault&) = default;
  card_vault& operator=(const card_vault&) = default;

  /// Wipes the key so it does not linger in freed memory.
  ~card_vault();

  /// Encrypts `plaintext` (at most plaintext_size_max bytes, else abort) and
  /// binds it to `associated_data`.
  std::string seal(std::string_view plaintext,
                   std::string_view associated_data) const;

  /// The plaintext, or nullopt if `sealed` is malformed, was altered, was
  /// sealed under another key or with other associated data.
  std::optional<std::string> open(std::string_view sealed,
                                  std::string_view associated_data) const;

private:
  explicit card_vault(const std::array<unsigned char, key_size>& key);

  std::array<unsigned char, key_size> key_;
};

} // namespace psp::crypto
