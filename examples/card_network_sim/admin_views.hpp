#pragma once

// Read-only reconciliation views over the ledger: per-reference capture
// counts, the charge list and settlement lines for a time window.

#include "types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace psp::sim {

class ledger_book;

/// A half-open window [from_s, to_s) of Unix seconds.
struct settlement_window {
  int64_t from_s = 0;
  int64_t to_s = INT64_MAX;
};

/// Parses the optional `from` / `to` query values (empty = unbounded).
std::optional<settlement_window>
parse_settlement_window(const std::string& from, const std::string& to);

/// `{"<reference>": succeeded captures, ...}`.
nlohmann::json charge_counts_view(const ledger_book& ledger);

/// `{"charges":[...]}` without any card data.
nlohmann::json charges_view(const ledger_book& ledger);

/// `{"lines":[...]}`: succeeded captures and refunds created inside
/// `window`, sorted by creation time, then id.
nlohmann::json settlement_view(const std::vector<charge_record>& charges,
                               const std::vector<refund_record>& refunds,
                               const settlement_window& window);

} // namespace psp::sim
