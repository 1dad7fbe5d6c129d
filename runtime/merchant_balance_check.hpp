#pragma once

// The second check of `psp-admin verify-ledger`, without Redis: each
// merchant's mirror hash `merchant:<id>:balances` (read by the balance API)
// must equal its accounts (`merchant:<id>:...`) recomputed from the ledger
// stream. The commit step updates both in one script, so any difference is
// a bug or a hand edit.

#include "runtime/ledger_check.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psp::ledger {

/// Merchant id -> its `merchant:<id>:balances` hash as read (empty when the
/// hash does not exist).
using merchant_balance_hashes = std::map<std::string, stored_balances>;

struct merchant_balance_difference {
  std::string merchant;
  balance_difference account; ///< stored_minor: the mirror hash's value
};

struct merchant_balance_report {
  size_t merchants = 0; ///< merchants checked
  size_t accounts = 0;  ///< merchant accounts compared
  std::vector<merchant_balance_difference> differences;

  bool consistent() const { return differences.empty(); }
};

/// "merchant:acct_1:pending:usd" -> "acct_1"; nullopt for other accounts.
std::optional<std::string> merchant_of_account(std::string_view account);

/// Compares every merchant in `hashes` and every merchant whose accounts
/// appear in the well-formed transactions (a merchant missing from `hashes`
/// is compared with an empty hash).
merchant_balance_report
check_merchant_balances(const std::vector<ledger_transaction>& transactions,
                        const merchant_balance_hashes& hashes);

/// A short report, at most `lines_max` lines of details.
std::string format_merchant_report(const merchant_balance_report& report,
                                   size_t lines_max = 50);

} // namespace psp::ledger
