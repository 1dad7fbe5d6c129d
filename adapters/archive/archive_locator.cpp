#include "adapters/archive/archive_locator.hpp"

#include "adapters/crypto/encoding.hpp"

#include <openssl/sha.h>

namespace psp::archive {

namespace {

// 64 bits of the id's SHA-1 name it inside its bucket; a digest equal to a
// pointer's at the level written or a lower one is found out when the
// pointer is written, and that payment then stays unarchived.
constexpr size_t field_hex_chars = 16;

std::string sha1_hex(std::string_view text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
       digest);
  return crypto::to_hex(
    std::string_view{reinterpret_cast<const char*>(digest), sizeof(digest)});
}

} // namespace

std::string archive_key(std::string_view archive_id) {
  return "arc:" + std::string{archive_id};
}

std::string archive_id_of(std::string_view id) {
  auto pos = id.rfind('_');
  auto suffix = pos == std::string_view::npos ? id : id.substr(pos + 1);
  if (suffix.size() < archive_id_chars) {
    return "";
  }
  return std::string{suffix.substr(0, archive_id_chars)};
}

std::optional<location> locate(std::string_view key) {
  auto colon = key.find(':');
  if (colon == std::string_view::npos || colon + 1 >= key.size()) {
    return std::nullopt;
  }
  auto prefix = key.substr(0, colon);
  auto id = key.substr(colon + 1);
  if (prefix == "pa" || prefix == "evt" || prefix == "txn"
      || prefix == "re") {
    auto arc = archive_id_of(id);
    if (arc.empty()) {
      return std::nullopt;
    }
    return location{archive_key(arc), {}};
  }
  if (prefix == "pi" || prefix == "cs" || prefix == "charge") {
    auto hex = sha1_hex(id);
    location where;
    for (int level = 1; level <= pointer_levels; ++level) {
      auto bucket_hex_chars = static_cast<size_t>(2 + level);
      where.pointers.push_back({"arx:" + hex.substr(0, bucket_hex_chars),
                                hex.substr(bucket_hex_chars, field_hex_chars)});
    }
    return where;
  }
  return std::nullopt;
}

} // namespace psp::archive
