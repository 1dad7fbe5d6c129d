#include "adapters/crypto/random_id.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <openssl/rand.h>

namespace psp::crypto {

namespace {

constexpr char base62_alphabet[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

constexpr unsigned base62_size = 62;

/// Largest multiple of 62 that fits in a byte: bytes at or above it are
/// thrown away so that `byte % 62` is uniform.
constexpr unsigned byte_accept_limit = 256 / base62_size * base62_size;

/// RAND_bytes takes an int count; stay well below it.
constexpr size_t rand_chunk_size_max = 1 << 20;

} // namespace

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  size_t done = 0;
  while (done < n) {
    size_t chunk =
        n - done < rand_chunk_size_max ? n - done : rand_chunk_size_max;
    auto* dst = reinterpret_cast<unsigned char*>(out.data() + done);
    if (RAND_bytes(dst, static_cast<int>(chunk)) != 1) {
      std::fprintf(stderr, "psp_crypto: RAND_bytes failed; refusing to "
                           "continue with predictable randomness\n");
      std::abort();
    }
    done += chunk;
  }
  return out;
}

std::string random_base62(size_t length) {
  std::string out;
  out.reserve(length);
  while (out.size() < length) {
    // About 3 % of bytes are rejected; ask for a little more than needed.
    size_t missing = length - out.size();
    std::string pool = random_bytes(missing + missing / 8 + 4);
    for (char c : pool) {
      auto b = static_cast<uint8_t>(c);
      if (b >= byte_accept_limit) {
        continue;
      }
      out.push_back(base62_alphabet[b % base62_size]);
      if (out.size() == length) {
        break;
      }
    }
  }
  return out;
}

std::string new_id(std::string_view prefix) {
  std::string out(prefix);
  out += random_base62(id_random_length);
  return out;
}

} // namespace psp::crypto
