#include "runtime/ledger_check.hpp"

#include "actors/ledger_account_names.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <limits>
#include <set>

namespace psp::ledger {

namespace {

using json = nlohmann::json;

/// A JSON integer that fits int64_t.
std::optional<int64_t> to_int64(const json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) {
    return v.get<int64_t>();
  }
  return std::nullopt;
}

std::string describe(const std::vector<ledger_leg>& legs) {
  std::string out;
  for (auto& leg : legs) {
    out += out.empty() ? "" : ", ";
    out += leg.account + " debit " + std::to_string(leg.debit_minor) +
           " credit " + std::to_string(leg.credit_minor);
  }
  return out;
}

/// Checks one well-formed transaction's legs (signs and balance) and adds
/// them to `computed`. Every leg is applied, balanced or not, so that the
/// recomputed balances are exactly what the stream says.
void check_and_apply(const ledger_transaction& t,
                     std::map<std::string, int64_t>& computed,
                     std::vector<transaction_problem>& problems) {
  using kind = transaction_problem::kind;
  auto problem = [&](kind what, std::string detail) {
    problems.push_back({what, t.entry_id, t.txn, std::move(detail)});
  };
  int64_t debits = 0;
  int64_t credits = 0;
  bool sums_overflow = false;
  for (auto& leg : t.postings) {
    if (leg.debit_minor < 0 || leg.credit_minor < 0) {
      problem(kind::negative_leg,
              leg.account + " debit " + std::to_string(leg.debit_minor) +
                  " credit " + std::to_string(leg.credit_minor));
    }
    sums_overflow = sums_overflow ||
                    __builtin_add_overflow(debits, leg.debit_minor, &debits) ||
                    __builtin_add_overflow(credits, leg.credit_minor, &credits);
    auto& balance = computed[leg.account];
    int64_t net = 0;
    if (__builtin_sub_overflow(leg.debit_minor, leg.credit_minor, &net) ||
        __builtin_add_overflow(balance, net, &balance)) {
      problem(kind::overflow, "balance of " + leg.account + " overflows");
    }
  }
  if (sums_overflow) {
    problem(kind::overflow, "sum of debits or credits overflows");
  } else if (debits != credits) {
    problem(kind::unbalanced, "debits " + std::to_string(debits) +
                                  " != credits " + std::to_string(credits) +
                                  " (" + describe(t.postings) + ")");
  }
}

/// Stored balances: differences with `computed` and the sum.
void compare_balances(const std::map<std::string, int64_t>& computed,
                      const stored_balances& balances, ledger_report& out) {
  std::set<std::string> accounts;
  for (auto& [account, _] : computed) {
    accounts.insert(account);
  }
  for (auto& [account, _] : balances) {
    accounts.insert(account);
  }
  out.accounts = accounts.size();
  for (auto& account : accounts) {
    auto c = computed.find(account);
    int64_t ledger_minor = c == computed.end() ? 0 : c->second;
    auto s = balances.find(account);
    std::optional<int64_t> stored = int64_t{0};
    if (s != balances.end()) {
      stored = s->second;
    }
    if (!stored || *stored != ledger_minor) {
      out.differences.push_back({account, ledger_minor, stored});
    }
  }
  int64_t sum = 0;
  for (auto& [_, value] : balances) {
    if (!value || __builtin_add_overflow(sum, *value, &sum)) {
      out.stored_sum_minor = std::nullopt;
      return;
    }
  }
  out.stored_sum_minor = sum;
}

} // namespace

std::variant<std::vector<ledger_leg>, std::string>
parse_postings(std::string_view text, std::string_view merchant_id) {
  auto doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_array()) {
    return std::string{"postings are not a JSON array"};
  }
  if (doc.empty()) {
    return std::string{"postings are empty"};
  }
  std::vector<ledger_leg> out;
  out.reserve(doc.size());
  for (auto& p : doc) {
    if (!p.is_array() || p.size() != 3 || !p[0].is_string() ||
        p[0].get<std::string>().empty()) {
      return "malformed posting " + p.dump();
    }
    auto debit = to_int64(p[1]);
    auto credit = to_int64(p[2]);
    if (!debit || !credit) {
      return "posting amounts are not 64-bit integers: " + p.dump();
    }
    auto account =
        ledger_names::full_account(p[0].get<std::string>(), merchant_id);
    if (!account) {
      return "relative account name without a merchant: " + p.dump();
    }
    out.push_back({std::move(*account), *debit, *credit});
  }
  return out;
}

ledger_transaction
parse_transaction(std::string entry_id,
                  const std::map<std::string, std::string>& fields) {
  ledger_transaction out;
  out.entry_id = std::move(entry_id);
  auto txn = fields.find("txn");
  if (txn == fields.end() || txn->second.empty()) {
    out.malformed = "no txn field";
  } else {
    out.txn = txn->second;
  }
  for (auto [name, into] : {std::pair{"intent", &out.intent},
                             std::pair{"op", &out.op}}) {
    if (auto f = fields.find(name); f != fields.end()) {
      *into = f->second;
    }
  }
  auto postings = fields.find("postings");
  if (postings == fields.end()) {
    out.malformed = "no postings field";
    return out;
  }
  auto merchant = fields.find("merchant");
  auto parsed = parse_postings(
      postings->second,
      merchant == fields.end() ? std::string_view{} : merchant->second);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    out.malformed = *why;
  } else if (out.malformed.empty()) {
    out.postings = std::get<std::vector<ledger_leg>>(std::move(parsed));
  }
  return out;
}

std::optional<int64_t> parse_balance(std::string_view text) {
  if (text.empty() || text == "-" || (text.size() > 1 && text[0] == '+')) {
    return std::nullopt;
  }
  int64_t out = 0;
  auto end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  if (ec != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> next_stream_id(std::string_view id) {
  auto dash = id.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == id.size()) {
    return std::nullopt;
  }
  uint64_t ms = 0;
  uint64_t seq = 0;
  auto parse = [](std::string_view part, uint64_t& value) {
    auto end = part.data() + part.size();
    auto [ptr, ec] = std::from_chars(part.data(), end, value);
    return ec == std::errc{} && ptr == end;
  };
  if (!parse(id.substr(0, dash), ms) || !parse(id.substr(dash + 1), seq)) {
    return std::nullopt;
  }
  constexpr auto top = std::numeric_limits<uint64_t>::max();
  if (seq < top) {
    return std::to_string(ms) + "-" + std::to_string(seq + 1);
  }
  if (ms < top) {
    return std::to_string(ms + 1) + "-0";
  }
  return std::nullopt; // the last possible id: nothing comes after it
}

namespace {

/// The once-a-payment step an op books ("sale" for a charge or an
/// authorisation: a payment has one or the other); nullptr for refunds,
/// which may be many, and ops this build does not know.
const char* once_only_step(const std::string& op) {
  if (op == "charge" || op == "authorize") {
    return "sale";
  }
  if (op == "capture" || op == "void") {
    return op == "capture" ? "capture" : "void";
  }
  return nullptr;
}

} // namespace

ledger_report check_ledger(const std::vector<ledger_transaction>& transactions,
                           const stored_balances& balances) {
  using kind = transaction_problem::kind;
  ledger_report out;
  out.transactions = transactions.size();
  std::map<std::string, int64_t> computed;
  std::map<std::string, std::string> entry_of_txn;
  // (intent, once-only step) -> the entry that booked it first.
  std::map<std::pair<std::string, std::string>, std::string> entry_of_step;
  for (auto& t : transactions) {
    if (!t.malformed.empty()) {
      out.problems.push_back({kind::malformed, t.entry_id, t.txn, t.malformed});
      continue;
    }
    auto [first, inserted] = entry_of_txn.emplace(t.txn, t.entry_id);
    if (!inserted) {
      out.problems.push_back({kind::duplicate, t.entry_id, t.txn,
                              "also in entry " + first->second});
    } else if (auto step = once_only_step(t.op); step && !t.intent.empty()) {
      // A second sale of one payment under a new transaction id balances,
      // so only this finds it (the same id twice is a duplicate above).
      auto [earlier, fresh] =
        entry_of_step.emplace(std::pair{t.intent, std::string{step}}, t.entry_id);
      if (!fresh) {
        out.problems.push_back({kind::repeated_step, t.entry_id, t.txn,
                                t.intent + "'s " + step + " also in entry "
                                  + earlier->second});
      }
    }
    check_and_apply(t, computed, out.problems);
  }
  compare_balances(computed, balances, out);
  return out;
}

const char* to_string(transaction_problem::kind what) {
  using kind = transaction_problem::kind;
  switch (what) {
  case kind::malformed:
    return "malformed";
  case kind::negative_leg:
    return "negative leg";
  case kind::unbalanced:
    return "unbalanced";
  case kind::duplicate:
    return "duplicate transaction id";
  case kind::overflow:
    return "overflow";
  case kind::repeated_step:
    return "payment step booked twice";
  }
  return "unknown";
}

std::string format_report(const ledger_report& report, size_t lines_max) {
  std::string out = "ledger: " + std::to_string(report.transactions) +
                    " transactions, " + std::to_string(report.accounts) +
                    " accounts\n";
  size_t shown = 0;
  auto line = [&](const std::string& text) {
    if (shown++ < lines_max) {
      out += text + "\n";
    }
  };
  for (auto& p : report.problems) {
    line("transaction " + p.entry_id + " (" + (p.txn.empty() ? "?" : p.txn) +
         "): " + to_string(p.what) + ": " + p.detail);
  }
  for (auto& d : report.differences) {
    auto text = "account " + d.account + ": transactions give " +
                std::to_string(d.ledger_minor) + ", ledger:balances has ";
    int64_t diff = 0;
    if (!d.stored_minor) {
      text += "a value that is not an integer";
    } else if (__builtin_sub_overflow(*d.stored_minor, d.ledger_minor, &diff)) {
      text += std::to_string(*d.stored_minor);
    } else {
      text += std::to_string(*d.stored_minor) + " (difference " +
              std::to_string(diff) + ")";
    }
    line(text);
  }
  if (shown > lines_max) {
    out += "... and " + std::to_string(shown - lines_max) + " more\n";
  }
  if (!report.stored_sum_minor) {
    out += "ledger:balances: the sum cannot be computed\n";
  } else if (*report.stored_sum_minor != 0) {
    out += "ledger:balances sums to " +
           std::to_string(*report.stored_sum_minor) + " (expected 0)\n";
  }
  out += report.consistent() ? std::string{"result: consistent\n"}
                             : "result: INCONSISTENT (" +
                                   std::to_string(report.problems.size()) +
                                   " transaction problems, " +
                                   std::to_string(report.differences.size()) +
                                   " balance differences)\n";
  return out;
}

} // namespace psp::ledger
