#pragma once

// Read-only reconciliation views over the ledger: per-reference capture
// counts, the charge list and the settlement report for a time window.

#include "settlement_faults.hpp"
#include "types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace psp::sim {

class ledger_book;

/// A half-open window [from_s, to_s) of Unix seconds; an absent bound is
/// unbounded.
struct settlement_window {
  std::optional<int64_t> from_s;
  std::optional<int64_t> to_s;

  bool contains(int64_t created_s) const {
    return (!from_s || created_s >= *from_s) && (!to_s || created_s < *to_s);
  }
};

/// Parses the optional `from` / `to` query values (empty = unbounded).
std::optional<settlement_window>
parse_settlement_window(const std::string& from, const std::string& to);

/// `{"<reference>": succeeded captures, ...}`.
nlohmann::json charge_counts_view(const ledger_book& ledger);

/// `{"charges":[...]}` without any card data.
nlohmann::json charges_view(const ledger_book& ledger);

/// `{"from":..,"to":..,"lines":[...]}` (an absent bound is null): the
/// journal's captures and refunds created inside `window`, in recording
/// order, as altered by `faults`.
nlohmann::json settlement_view(const std::vector<settlement_entry>& journal,
                               const settlement_window& window,
                               const settlement_fault_set& faults);

} // namespace psp::sim
