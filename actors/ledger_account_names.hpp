#pragma once

// How an entry of `ledger:transactions` names its accounts (docs/ledger.md).
// An account of the entry's own merchant is stored without its
// "merchant:<id>" prefix, as ":pending:usd": the entry's `merchant` field
// says whose it is already, and the prefix was ~37 B of each such posting
// (decision 41). Entries written before name every account in full, and
// still read the same.
//
// Header-only and free of dependencies, because the writer (adapters), the
// checks (runtime/ledger_check) and the tests must agree on it; the commit
// step's Lua expands the same way for the balances it updates.

#include <optional>
#include <string>
#include <string_view>

namespace psp::ledger_names {

inline constexpr std::string_view merchant_prefix = "merchant:";

/// The name stored for `account` in an entry of `merchant_id`.
inline std::string stored_account(std::string_view account,
                                  std::string_view merchant_id) {
  auto own = merchant_prefix.size() + merchant_id.size();
  if (!merchant_id.empty() && account.size() > own + 1 &&
      account.substr(0, merchant_prefix.size()) == merchant_prefix &&
      account.substr(merchant_prefix.size(), merchant_id.size()) ==
          merchant_id &&
      account[own] == ':') {
    return std::string{account.substr(own)};
  }
  return std::string{account};
}

/// The full name of an account as stored in an entry of `merchant_id`;
/// nullopt for a relative name in an entry without a merchant.
inline std::optional<std::string> full_account(std::string_view stored,
                                               std::string_view merchant_id) {
  if (stored.empty() || stored.front() != ':') {
    return std::string{stored};
  }
  if (merchant_id.empty()) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(merchant_prefix.size() + merchant_id.size() + stored.size());
  out.append(merchant_prefix).append(merchant_id).append(stored);
  return out;
}

} // namespace psp::ledger_names
