#pragma once

// Reading, restoring and writing the archive of finished payments
// (archive_scripts.hpp says what it is). Blocking: for HTTP handler threads
// and detached actors only, like the connection it takes.

#include "adapters/archive/archive_codec.hpp"
#include "adapters/redis/redis_connection.hpp"
#include "adapters/render/objects.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace psp::redis {

/// An HGETALL reply as field -> value.
render::fields hash_fields(const value& reply);

/// The hash at each key, as HGETALL gives it, or from the archive when the
/// key is archived; an empty map when neither has it. nullopt when Redis
/// failed or answered an error (never mistaken for "no such object").
std::optional<std::vector<render::fields>>
read_objects(connection& conn, const std::vector<std::string>& keys);

/// Runs HGET/HMGET commands in one pipeline and answers those whose key is
/// gone but archived from the archive, in the same reply shapes (nil for a
/// field the object lacks). nullopt as read_objects.
std::optional<std::vector<value>>
query_fields(connection& conn,
             const std::vector<std::vector<std::string>>& commands);

/// One key's hash, live or archived (see read_objects).
std::optional<render::fields> read_object(connection& conn,
                                          const std::string& key);

/// Puts the hashes of archive `arc_key` back (nothing to do when it is
/// gone already). false when Redis failed or the blob cannot be read.
bool restore_archive(connection& conn, const std::string& arc_key);

/// The `ARCHIVED <arc key>` a guarded script raised, if that is what
/// `reply` is.
std::optional<std::string> archived_error_key(const value& reply);

/// Payments a pass takes at most: small, because Redis checks each WATCH
/// against the connection's watched keys one by one (seven keys a
/// payment): 200 payments a batch spent more of Redis's time in WATCH
/// than in everything else of the archive.
inline constexpr size_t archive_batch = 32;

struct archive_pass {
  size_t taken = 0;
  size_t archived = 0;
  /// A webhook still pending: queued again.
  size_t later = 0;
  /// Not a plain paid charge, or changed while being packed.
  size_t skipped = 0;
  /// Compressed bytes of the payments packed (archived or not).
  size_t packed_bytes = 0;
  bool failed = false;
};

/// One round of the archiver: takes up to `max` payments that finished at
/// least `after_ms` ago, packs the ready ones and writes them, each with
/// its queue entry's removal, in one MULTI/EXEC. Round trips: take, the
/// intents' references, WATCH + read, one dictionary call per merchant,
/// SCRIPT LOAD, the transaction. An entry taken by a pass that died is
/// given back by a later take after a minute; a payment is never lost
/// either way, only archived later.
/// The dictionary each merchant's payments were last packed with, kept by
/// an archiver between its passes: a dictionary is ~25 KB, too much to
/// fetch for every batch. Dictionaries never change, so a cached one stays
/// right even after another archiver made the merchant a newer one.
struct dictionary_cache {
  struct entry {
    archive::dictionary dict;
    size_t made_of = 0; ///< payments it is made of
  };
  std::map<std::string, entry> by_merchant;
};

archive_pass archive_due_payments(connection& conn, int64_t now_ms,
                                  int64_t after_ms, size_t max,
                                  dictionary_cache& dictionaries);
/// The same with a cache of its own (tests, one-off passes).
archive_pass archive_due_payments(connection& conn, int64_t now_ms,
                                  int64_t after_ms, size_t max);

} // namespace psp::redis
