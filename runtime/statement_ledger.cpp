#include "runtime/statement_ledger.hpp"

#include "runtime/ledger_check.hpp"

#include <variant>

namespace psp::statement {

std::optional<std::pair<std::string, std::string>>
parse_pending_account(std::string_view account) {
  constexpr std::string_view prefix = "merchant:";
  constexpr std::string_view middle = ":pending:";
  if (account.substr(0, prefix.size()) != prefix) {
    return std::nullopt;
  }
  auto rest = account.substr(prefix.size());
  auto at = rest.find(middle);
  if (at == 0 || at == std::string_view::npos) {
    return std::nullopt;
  }
  auto merchant = rest.substr(0, at);
  auto currency = rest.substr(at + middle.size());
  if (currency.empty() || currency.find(':') != std::string_view::npos) {
    return std::nullopt;
  }
  return std::make_pair(std::string{merchant}, std::string{currency});
}

bool pending_ledger::add_entry(int64_t created_s,
                               std::string_view postings_json,
                               std::string_view merchant_id) {
  if (created_s >= covered_.to_s) {
    return true; // after the period: in neither balance
  }
  auto parsed = ledger::parse_postings(postings_json, merchant_id);
  auto* legs = std::get_if<std::vector<ledger::ledger_leg>>(&parsed);
  if (!legs) {
    return false;
  }
  for (auto& leg : *legs) {
    auto account = parse_pending_account(leg.account);
    if (!account) {
      continue;
    }
    // The pending account is a credit account: what we owe grows with
    // credits.
    auto owed_minor = leg.credit_minor - leg.debit_minor;
    auto& t = totals_[account->first];
    t.closing[account->second] += owed_minor;
    if (created_s < covered_.from_s) {
      t.opening[account->second] += owed_minor;
    }
  }
  return true;
}

pending_totals pending_ledger::of(const std::string& merchant_id) const {
  auto it = totals_.find(merchant_id);
  return it == totals_.end() ? pending_totals{} : it->second;
}

} // namespace psp::statement
