#pragma once

// Before the payment stream was cut into partitions (docs/decisions.md, 26)
// every job went to one stream, `stream:payments`. A node that starts on a
// Redis still holding jobs there moves each to its partition, and looks
// again at every idle-reclaim tick (nodes of the old release may still be
// writing during a rolling upgrade), so that an upgrade strands no payment:
// one atomic step per entry (a node racing another moves it once), pending
// entries included (their job runs again under its new entry; every step is
// idempotent). An entry whose job cannot be decoded is left where it is, and
// logged (at start-up; the periodic look stays quiet about it).

#include "adapters/redis/redis_connection.hpp"

#include <cstddef>
#include <optional>
#include <string>

namespace psp::redis {

/// The key of the pre-partition stream.
inline const std::string legacy_payment_stream = "stream:payments";

/// Jobs moved, or nullopt with `err` when Redis failed.
std::optional<size_t>
migrate_legacy_payment_stream(connection& conn, std::string& err,
                              bool log_undecodable = true);

} // namespace psp::redis
