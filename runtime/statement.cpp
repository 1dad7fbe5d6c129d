#include "runtime/statement.hpp"

#include <algorithm>

namespace psp::statement {

bool merchant_statement::consistent() const {
  return std::all_of(totals.begin(), totals.end(),
                     [](const currency_totals& t) { return t.consistent(); });
}

merchant_statement build_statement(statement_input in) {
  merchant_statement out;
  out.merchant_id = std::move(in.merchant_id);
  out.merchant_name = std::move(in.merchant_name);
  out.covered = in.covered;
  out.generated_s = in.generated_s;
  out.lines = std::move(in.lines);
  // Stable: lines of one second keep the order they were booked in (the
  // order they come in). Ordering those by id, which is random, put a
  // refund before its charge and showed running balances that never were.
  std::stable_sort(out.lines.begin(), out.lines.end(),
                   [](const statement_line& a, const statement_line& b) {
                     return a.created_s < b.created_s;
                   });
  std::map<std::string, currency_totals> by_currency;
  auto totals_of = [&](const std::string& currency) -> currency_totals& {
    auto& t = by_currency[currency];
    t.currency = currency;
    return t;
  };
  for (auto& [currency, balance] : in.opening) {
    totals_of(currency).opening_minor = balance;
  }
  if (in.ledger_closing) {
    for (auto& [currency, balance] : *in.ledger_closing) {
      totals_of(currency).ledger_closing_minor = balance;
    }
  }
  for (auto& line : out.lines) {
    auto& t = totals_of(line.currency);
    if (line.type == "refund") {
      t.refunds_minor += line.amount_minor;
    } else {
      t.charges_minor += line.amount_minor;
    }
    t.fees_minor += line.fee_minor;
    t.net_minor += line.net_minor;
    ++t.transactions;
  }
  for (auto& [currency, t] : by_currency) {
    t.closing_minor = t.opening_minor + t.net_minor;
    // A currency the ledger never saw before the end has a ledger balance
    // of 0, not an unknown one.
    if (in.ledger_closing && !t.ledger_closing_minor) {
      t.ledger_closing_minor = 0;
    }
    out.totals.push_back(t);
  }
  return out;
}

} // namespace psp::statement
