#pragma once

// Where an archived object is found by the Redis key it had. Objects whose
// id carries the random part of an attempt or a refund (pa_, evt_, txn_,
// re_) name their archive directly; the intent, session and charge have ids
// of their own and are found through a pointer in a bucketed hash. The Lua side
// (adapters/redis/archive_scripts.cpp) computes the same locations.

#include <optional>
#include <string>
#include <string_view>

namespace psp::archive {

/// `arc:` + the first archive_id_chars of the attempt's (or the refund's) id's
/// random part.
inline constexpr size_t archive_id_chars = 12;

struct location {
  /// Set when the key names its archive directly.
  std::string archive_key;
  /// Otherwise the pointer to read: HGET pointer_bucket pointer_field gives
  /// the archive id.
  std::string pointer_bucket;
  std::string pointer_field;
};

/// nullopt for keys that are never archived.
std::optional<location> locate(std::string_view key);

/// The archive key of an archive id (a pointer's value).
std::string archive_key(std::string_view archive_id);

/// The archive id of an attempt, refund, event or balance transaction id: the
/// first archive_id_chars of what follows its last underscore; "" when the
/// id is too short.
std::string archive_id_of(std::string_view id);

} // namespace psp::archive
