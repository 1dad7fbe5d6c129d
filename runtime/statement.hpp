#pragma once

// A merchant's statement for one period, without Redis: the opening balance
// of its pending account (what we owe it) before the period, every balance
// transaction in the period, the totals, and the closing balance = opening +
// the period's nets. The opening comes from the ledger, the lines from the
// balance transactions, so the closing can be checked against the ledger's
// own balance at the end of the period (`ledger_closing_minor`): two sources
// that must agree.

#include "runtime/recon_period.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace psp::statement {

/// Balances owed to a merchant per currency: credits - debits of its
/// `merchant:<id>:pending:<cur>` accounts.
using pending_balances = std::map<std::string, int64_t>;

/// One balance transaction.
struct statement_line {
  std::string txn;
  int64_t created_s = 0;
  std::string type;   ///< "charge" | "refund"
  std::string source; ///< network charge id / PSP refund id
  std::string intent;
  std::string currency;
  int64_t amount_minor = 0; ///< signed: refunds negative
  int64_t fee_minor = 0;
  int64_t net_minor = 0;
};

/// The figures of one currency.
struct currency_totals {
  std::string currency;
  int64_t opening_minor = 0;
  int64_t charges_minor = 0; ///< sum of charge amounts
  int64_t refunds_minor = 0; ///< sum of refund amounts (negative or 0)
  int64_t fees_minor = 0;
  int64_t net_minor = 0; ///< sum of nets: the period's movement
  int64_t closing_minor = 0; ///< opening + net
  /// The ledger's balance at the end of the period; nullopt when unknown.
  std::optional<int64_t> ledger_closing_minor;
  size_t transactions = 0;

  bool consistent() const {
    return !ledger_closing_minor || *ledger_closing_minor == closing_minor;
  }
};

struct merchant_statement {
  std::string merchant_id;
  std::string merchant_name;
  recon::period covered;
  int64_t generated_s = 0;
  std::vector<statement_line> lines;   ///< by created, then as booked
  std::vector<currency_totals> totals; ///< by currency code

  bool consistent() const;
  /// No line, and the ledger agrees: nothing happened in the period.
  bool idle() const { return lines.empty() && consistent(); }
};

/// What build_statement needs.
struct statement_input {
  std::string merchant_id;
  std::string merchant_name;
  recon::period covered;
  int64_t generated_s = 0;
  pending_balances opening;                      ///< before covered.from_s
  std::optional<pending_balances> ledger_closing; ///< before covered.to_s
  /// In the order they were booked (the merchant's balance-transaction
  /// index, by millisecond), or at least so within each second.
  std::vector<statement_line> lines;
};

/// Sorts the lines and computes the totals of every currency that has an
/// opening balance, a line or a ledger closing balance.
merchant_statement build_statement(statement_input in);

} // namespace psp::statement
