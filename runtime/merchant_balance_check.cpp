#include "runtime/merchant_balance_check.hpp"

#include <set>

namespace psp::ledger {

std::optional<std::string> merchant_of_account(std::string_view account) {
  constexpr std::string_view prefix = "merchant:";
  if (account.substr(0, prefix.size()) != prefix) {
    return std::nullopt;
  }
  auto rest = account.substr(prefix.size());
  auto colon = rest.find(':');
  if (colon == 0 || colon == std::string_view::npos) {
    return std::nullopt;
  }
  return std::string{rest.substr(0, colon)};
}

merchant_balance_report
check_merchant_balances(const std::vector<ledger_transaction>& transactions,
                        const merchant_balance_hashes& hashes) {
  // merchant -> account -> debits - credits. Overflow is reported by
  // check_ledger; here it wraps like the stored value would not, which
  // shows up as a difference too.
  std::map<std::string, std::map<std::string, int64_t>> computed;
  for (auto& t : transactions) {
    if (!t.malformed.empty()) {
      continue;
    }
    for (auto& leg : t.postings) {
      if (auto merchant = merchant_of_account(leg.account)) {
        auto& balance = computed[*merchant][leg.account];
        balance = static_cast<int64_t>(static_cast<uint64_t>(balance) +
                                       static_cast<uint64_t>(leg.debit_minor) -
                                       static_cast<uint64_t>(leg.credit_minor));
      }
    }
  }
  std::set<std::string> merchants;
  for (auto& [m, _] : computed) {
    merchants.insert(m);
  }
  for (auto& [m, _] : hashes) {
    merchants.insert(m);
  }
  merchant_balance_report out;
  out.merchants = merchants.size();
  static const stored_balances no_hash;
  static const std::map<std::string, int64_t> no_accounts;
  for (auto& m : merchants) {
    auto h = hashes.find(m);
    auto& stored = h == hashes.end() ? no_hash : h->second;
    auto c = computed.find(m);
    auto& mine = c == computed.end() ? no_accounts : c->second;
    std::set<std::string> accounts;
    for (auto& [a, _] : mine) {
      accounts.insert(a);
    }
    for (auto& [a, _] : stored) {
      accounts.insert(a);
    }
    out.accounts += accounts.size();
    for (auto& a : accounts) {
      auto ci = mine.find(a);
      int64_t ledger_minor = ci == mine.end() ? 0 : ci->second;
      auto si = stored.find(a);
      std::optional<int64_t> stored_minor = int64_t{0};
      if (si != stored.end()) {
        stored_minor = si->second;
      }
      if (!stored_minor || *stored_minor != ledger_minor) {
        out.differences.push_back({m, {a, ledger_minor, stored_minor}});
      }
    }
  }
  return out;
}

std::string format_merchant_report(const merchant_balance_report& report,
                                   size_t lines_max) {
  std::string out = "merchant balances: " + std::to_string(report.merchants) +
                    " merchants, " + std::to_string(report.accounts) +
                    " accounts\n";
  size_t shown = 0;
  for (auto& d : report.differences) {
    if (shown++ >= lines_max) {
      continue;
    }
    auto& a = d.account;
    out += "merchant " + d.merchant + ": account " + a.account +
           ": transactions give " + std::to_string(a.ledger_minor) +
           ", merchant:" + d.merchant + ":balances has ";
    int64_t diff = 0;
    if (!a.stored_minor) {
      out += "a value that is not an integer\n";
    } else if (__builtin_sub_overflow(*a.stored_minor, a.ledger_minor, &diff)) {
      out += std::to_string(*a.stored_minor) + "\n";
    } else {
      out += std::to_string(*a.stored_minor) + " (difference " +
             std::to_string(diff) + ")\n";
    }
  }
  if (shown > lines_max) {
    out += "... and " + std::to_string(shown - lines_max) + " more\n";
  }
  return out;
}

} // namespace psp::ledger
