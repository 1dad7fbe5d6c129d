#pragma once

// A finished payment's Redis hashes as one compressed string: MessagePack
// of [key, field, value, field, value, ...] per object, compressed by zstd
// primed with its merchant's dictionary. A merchant's payments share most
// of their bytes (its id, name, URLs, webhook endpoints, products, every
// field name), so the dictionary is the fixed template of a payment
// (archive_dictionary.cpp) followed by a few of the merchant's own
// payments; a blob names its dictionary's id, and a stored dictionary never
// changes (a merchant may get a newer one made of more payments).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace psp::archive {

struct stored_object {
  /// The Redis key the object lives under when it is not archived.
  std::string key;
  /// Field/value pairs in the hash's own order.
  std::vector<std::pair<std::string, std::string>> fields;
};

struct dictionary {
  uint64_t id = 0;
  std::string bytes;
};

/// The value of `name` in `o`, nullptr when it has no such field.
const std::string* field_of(const stored_object& o, std::string_view name);

/// The uncompressed form (MessagePack) that pack() compresses.
std::string serialize(const std::vector<stored_object>& objects);

/// How many of a merchant's payments its dictionary is made of, at most.
inline constexpr size_t dictionary_payments_max = 8;

/// The dictionary a merchant's archives are packed with, made of some of
/// its payments (each a list of objects).
std::string dictionary_bytes_for(
  const std::vector<std::vector<stored_object>>& payments);

/// Compresses objects into an archive blob ("" if zstd fails).
std::string pack(const std::vector<stored_object>& objects,
                 const dictionary& dict);

/// The id of the dictionary a blob needs; nullopt when it is not a blob
/// this build can read.
std::optional<uint64_t> dictionary_id_of(std::string_view blob);

/// The objects of a blob; nullopt when it cannot be read with `dict`.
std::optional<std::vector<stored_object>> unpack(std::string_view blob,
                                                 const dictionary& dict);

/// The fixed template every dictionary starts with (for tests).
const std::string& template_bytes();

} // namespace psp::archive
