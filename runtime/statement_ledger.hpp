#pragma once

// The opening and closing balances of statements, recomputed from the ledger
// stream without Redis: the caller feeds each entry of `ledger:transactions`
// once and gets every merchant's pending balances before the start and
// before the end of the period. One pass serves all merchants, so the
// scheduler reads the stream once per period, not once per merchant.

#include "runtime/recon_period.hpp"
#include "runtime/statement.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace psp::statement {

/// A merchant's pending balances before the start and before the end.
struct pending_totals {
  pending_balances opening;
  pending_balances closing;
};

/// "merchant:acct_1:pending:usd" -> {"acct_1", "usd"}; nullopt for any other
/// account.
std::optional<std::pair<std::string, std::string>>
parse_pending_account(std::string_view account);

class pending_ledger {
public:
  explicit pending_ledger(recon::period covered) : covered_(covered) {
  }

  /// Adds one entry: its `created` (Unix s), `postings` and `merchant`
  /// fields. False when the postings are malformed (the entry is then
  /// ignored; psp-admin verify-ledger is the tool that reports it).
  bool add_entry(int64_t created_s, std::string_view postings_json,
                 std::string_view merchant_id);

  /// Merchant id -> balances; merchants without pending postings before the
  /// end are absent.
  const std::map<std::string, pending_totals>& by_merchant() const {
    return totals_;
  }

  /// The balances of one merchant (empty when it has none).
  pending_totals of(const std::string& merchant_id) const;

private:
  recon::period covered_;
  std::map<std::string, pending_totals> totals_;
};

} // namespace psp::statement
