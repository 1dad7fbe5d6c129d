#pragma once

// Reads shared by reconciliation and statements: the merchant index and a
// merchant's balance transactions in a period (from the per-merchant sorted
// set, scored by the commit's ms clock, whose `created` second is the same
// reading, so [from, to) in seconds is [from*1000, to*1000) in scores).

#include "adapters/redis/redis_connection.hpp"
#include "runtime/recon_period.hpp"
#include "runtime/report_failure.hpp"

#include <map>
#include <string>
#include <variant>
#include <vector>

namespace psp::reports {

/// A Redis hash as field -> value.
using hash_fields = std::map<std::string, std::string>;

/// Balance transactions read per period and merchant at most; more is a
/// too_large failure rather than a silently partial report.
inline constexpr size_t balance_transactions_max = 1'000'000;

/// Ids of every merchant (the `merchants` set), sorted.
std::variant<std::vector<std::string>, report_failure>
read_merchants(redis::connection& conn);

/// The `txn:<id>` hashes of `merchant_id` created in `p`, oldest first.
std::variant<std::vector<hash_fields>, report_failure>
read_balance_transactions(redis::connection& conn,
                          const std::string& merchant_id,
                          const recon::period& p);

/// HGETALL of each key, pipelined in batches; an absent key gives an empty
/// map.
std::variant<std::vector<hash_fields>, report_failure>
read_hashes(redis::connection& conn, const std::vector<std::string>& keys);

/// A decimal integer field; nullopt when absent or malformed.
std::optional<int64_t> int_field(const hash_fields& f, const std::string& key);

/// A field's value or "".
std::string text_field(const hash_fields& f, const std::string& key);

/// A failure of kind redis naming what was read.
report_failure redis_failure(redis::connection& conn, const std::string& what);

} // namespace psp::reports
