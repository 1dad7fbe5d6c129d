#pragma once

// Statements from Redis: the merchant's name, its balance transactions in
// the period (balance_reader.hpp) and its pending balances before and at
// the end of the period recomputed from `ledger:transactions`
// (statement_ledger.hpp). Stored statements live in
// `statement:<merchant>:<from>` (JSON) indexed by
// `merchant:<id>:statements` (scored by the period start).

#include "adapters/redis/redis_connection.hpp"
#include "runtime/report_failure.hpp"
#include "runtime/statement.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace psp::statement {

/// Ledger entries read for one statement run at most.
inline constexpr size_t ledger_entries_max = 20'000'000;

/// Stream ids are Redis's clock, `created` the node's: entries are read up
/// to this long after the period's end, then filtered by `created`.
inline constexpr int64_t ledger_clock_slack_s = 600;

/// The statement of one merchant (not_found when it does not exist).
std::variant<merchant_statement, report_failure>
load_statement(redis::connection& conn, const std::string& merchant_id,
               const recon::period& p, int64_t now_s);

/// Called every ledger_batches_per_check batches of a long ledger pass;
/// returning false stops it (kind lease_lost). The scheduler renews its
/// lease here, so a pass longer than the lease does not lose it.
using keep_going = std::function<bool()>;
inline constexpr size_t ledger_batches_per_check = 100;

/// The statements of several merchants with one pass over the ledger.
std::variant<std::vector<merchant_statement>, report_failure>
load_statements(redis::connection& conn,
                const std::vector<std::string>& merchant_ids,
                const recon::period& p, int64_t now_s,
                const keep_going& check = {});

/// Stores (or overwrites: the content is a function of the data) one
/// statement.
std::optional<report_failure> store_statement(redis::connection& conn,
                                              const merchant_statement& s);

/// The stored statement of `merchant_id` whose period starts at `from_s`.
std::variant<merchant_statement, report_failure>
load_stored_statement(redis::connection& conn, const std::string& merchant_id,
                      int64_t from_s);

/// The stored statements of a merchant, newest first, at most 100:
/// {"object":"list","data":[{"from","to","generated","consistent"}]}.
std::variant<nlohmann::json, report_failure>
list_stored_statements(redis::connection& conn,
                       const std::string& merchant_id);

} // namespace psp::statement
