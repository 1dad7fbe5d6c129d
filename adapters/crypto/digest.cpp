#include "adapters/crypto/digest.hpp"

#include <climits>
#include <cstdio>
#include <cstdlib>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace psp::crypto {

namespace {

/// OpenSSL only fails here on allocation failure or a broken build; there is
/// no sensible way to carry on without a digest.
[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "psp_crypto: %s failed\n", what);
  std::abort();
}

/// Some OpenSSL entry points reject a null pointer even with length zero,
/// and an empty string_view may have a null data().
const unsigned char* bytes_of(std::string_view s) {
  static const unsigned char empty = 0;
  return s.empty() ? &empty : reinterpret_cast<const unsigned char*>(s.data());
}

} // namespace

std::string sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_size = 0;
  if (EVP_Digest(bytes_of(data), data.size(), md, &md_size, EVP_sha256(),
                 nullptr) != 1 ||
      md_size != sha256_size) {
    die("SHA-256");
  }
  return std::string(reinterpret_cast<const char*>(md), md_size);
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
  if (key.size() > static_cast<size_t>(INT_MAX)) {
    die("HMAC-SHA256 (key too long)");
  }
  unsigned char tag[EVP_MAX_MD_SIZE];
  unsigned int tag_size = 0;
  if (HMAC(EVP_sha256(), bytes_of(key), static_cast<int>(key.size()),
           bytes_of(message), message.size(), tag, &tag_size) == nullptr ||
      tag_size != sha256_size) {
    die("HMAC-SHA256");
  }
  return std::string(reinterpret_cast<const char*>(tag), tag_size);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  if (a.empty()) {
    return true;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace psp::crypto
