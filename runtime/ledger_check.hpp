#pragma once

// The checks behind `psp-admin verify-ledger`, without Redis: the caller reads
// the ledger stream and the balances hash, this code parses the entries and
// says whether they agree. Account names are opaque strings here, so a change
// of naming scheme (e.g. a currency suffix) needs no change in the checker.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace psp::ledger {

/// One leg of a transaction as stored: `[account, debit_minor, credit_minor]`.
struct ledger_leg {
  std::string account;
  int64_t debit_minor = 0;
  int64_t credit_minor = 0;
};

/// One entry of `ledger:transactions`.
struct ledger_transaction {
  std::string entry_id; ///< the stream entry id
  std::string txn;      ///< the `txn` field (transaction id)
  std::vector<ledger_leg> postings;
  std::string malformed; ///< why the entry could not be parsed; "" if fine
  /// The payment and the step that booked it (`intent`, `op`: charge,
  /// authorize, capture, void, refund); "" in entries written before them.
  std::string intent = {};
  std::string op = {};
};

/// `ledger:balances` as read: account -> debits - credits, nullopt when the
/// stored value is not an integer. An account absent from the map counts as
/// 0, as HGET/HINCRBY treat it.
using stored_balances = std::map<std::string, std::optional<int64_t>>;

/// Parses the `postings` field of an entry of `merchant_id` (its `merchant`
/// field): a non-empty JSON array of `[string, integer, integer]`. Accounts
/// come back with their full names (actors/ledger_account_names.hpp: an
/// entry stores its own merchant's accounts relative). Returns the legs or
/// why they are malformed.
std::variant<std::vector<ledger_leg>, std::string>
parse_postings(std::string_view text, std::string_view merchant_id);

/// Builds a transaction from a stream entry's fields (field -> value); a
/// missing `txn` or malformed `postings` (a relative account name in an
/// entry without `merchant` among them) is recorded in `malformed`.
ledger_transaction
parse_transaction(std::string entry_id,
                  const std::map<std::string, std::string>& fields);

/// A `ledger:balances` value: a decimal int64 (optional leading '-').
std::optional<int64_t> parse_balance(std::string_view text);

/// The smallest stream id greater than `id` ("5-3" -> "5-4"), to continue an
/// XRANGE after the last entry read; nullopt when `id` is not "ms-seq".
std::optional<std::string> next_stream_id(std::string_view id);

/// What is wrong with one transaction.
struct transaction_problem {
  enum class kind {
    malformed,
    negative_leg,
    unbalanced,
    duplicate,
    overflow,
    /// A step a payment takes once (its sale or authorisation, capture,
    /// void) booked twice under different transaction ids.
    repeated_step
  };
  kind what = kind::malformed;
  std::string entry_id;
  std::string txn;
  std::string detail; ///< e.g. "debits 2000 != credits 1999"
};

/// An account whose stored balance differs from the one recomputed from the
/// transactions.
struct balance_difference {
  std::string account;
  int64_t ledger_minor = 0;            ///< recomputed: debits - credits
  std::optional<int64_t> stored_minor; ///< nullopt: not an integer in Redis
};

struct ledger_report {
  size_t transactions = 0; ///< stream entries examined
  size_t accounts = 0;     ///< accounts in the stream or the hash
  std::vector<transaction_problem> problems;
  std::vector<balance_difference> differences;
  /// Sum of the stored balances; nullopt when it overflows or a value is not
  /// an integer.
  std::optional<int64_t> stored_sum_minor = 0;

  /// True when every check passed.
  bool consistent() const {
    return problems.empty() && differences.empty() && stored_sum_minor &&
           *stored_sum_minor == 0;
  }
};

/// Checks every transaction (well formed, no negative leg, debits == credits,
/// transaction id unique, each payment's once-only steps booked once),
/// recomputes every account from all well-formed
/// entries and compares it with `balances`, and checks they sum to 0.
ledger_report check_ledger(const std::vector<ledger_transaction>& transactions,
                           const stored_balances& balances);

/// A short human-readable report, at most `lines_max` lines of details
/// (then "... and N more").
std::string format_report(const ledger_report& report, size_t lines_max = 50);

/// A short name for a problem kind ("unbalanced", ...).
const char* to_string(transaction_problem::kind what);

} // namespace psp::ledger
