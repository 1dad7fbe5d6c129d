#pragma once

// Where an archived object is found by the Redis key it had. Objects whose
// id carries the random part of an attempt or a refund (pa_, evt_, txn_,
// re_) name their archive directly; the intent, session and charge have ids
// of their own and are found through a pointer in a bucketed hash. The Lua side
// (adapters/redis/archive_scripts.cpp) computes the same locations.
//
// Pointers have levels (decision 38): level L has 4,096 x 16^(L-1) buckets
// `arx:<first 2 + L hex digits of SHA-1(id)>`, the field the next 16 digits.
// Pointers are written at the first level not yet ~420 full a bucket, so
// buckets stay compact listpacks however many payments are archived; an id
// has its pointer at exactly one level, so reads try each.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psp::archive {

/// `arc:` + the first archive_id_chars of the attempt's (or the refund's) id's
/// random part.
inline constexpr size_t archive_id_chars = 12;

/// Levels of pointer buckets (the Lua side's pointer_levels).
inline constexpr int pointer_levels = 4;

/// HGET bucket field gives the archive id.
struct pointer {
  std::string bucket;
  std::string field;
};

struct location {
  /// Set when the key names its archive directly.
  std::string archive_key;
  /// Otherwise where its pointer may be, one place a level, level 1 first.
  std::vector<pointer> pointers;
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
