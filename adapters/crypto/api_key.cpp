#include "adapters/crypto/api_key.hpp"

#include "adapters/crypto/digest.hpp"
#include "adapters/crypto/encoding.hpp"
#include "adapters/crypto/random_id.hpp"

namespace psp::crypto {

std::string new_secret_key() {
  std::string out(secret_key_prefix);
  out.append(random_base62(secret_key_random_length));
  return out;
}

std::string api_key_hash(std::string_view key) {
  return to_hex(sha256(key));
}

bool api_key_matches(std::string_view key, std::string_view stored_hash_hex) {
  return constant_time_equal(api_key_hash(key), stored_hash_hex);
}

} // namespace psp::crypto
