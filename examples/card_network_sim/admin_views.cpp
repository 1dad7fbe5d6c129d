#include "admin_views.hpp"

#include "json_codec.hpp"
#include "ledger_book.hpp"
#include "settlement_faults.hpp"

#include <charconv>

namespace psp::sim {

namespace {

using json = nlohmann::json;

bool parse_seconds(const std::string& text, std::optional<int64_t>& out) {
  if (text.empty()) {
    return true;
  }
  int64_t value = 0;
  auto first = text.data();
  auto last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc{} || ptr != last) {
    return false;
  }
  out = value;
  return true;
}

json bound_or_null(const std::optional<int64_t>& bound_s) {
  return bound_s ? json(*bound_s) : json(nullptr);
}

json settlement_row(const settlement_entry& e, int64_t amount_minor) {
  return {{"type", e.kind == settlement_kind::capture ? "capture" : "refund"},
          {"id", e.id},
          {"charge", e.charge_id},
          {"reference", e.reference},
          {"merchant", e.merchant.empty() ? json(nullptr) : json(e.merchant)},
          {"amount", amount_minor},
          {"currency", e.currency},
          {"created", e.created_s}};
}

} // namespace

std::optional<settlement_window>
parse_settlement_window(const std::string& from, const std::string& to) {
  settlement_window w;
  if (!parse_seconds(from, w.from_s) || !parse_seconds(to, w.to_s)) {
    return std::nullopt;
  }
  return w;
}

json charge_counts_view(const ledger_book& ledger) {
  json out = json::object();
  for (const auto& [reference, count] : ledger.succeeded_counts()) {
    out[reference] = count;
  }
  return out;
}

json charges_view(const ledger_book& ledger) {
  json rows = json::array();
  for (const auto& charge : ledger.charges()) {
    rows.push_back(charge_row(charge));
  }
  return {{"charges", std::move(rows)}};
}

json settlement_view(const std::vector<settlement_entry>& journal,
                     const settlement_window& window,
                     const settlement_fault_set& faults) {
  json rows = json::array();
  for (const auto& entry : journal) {
    if (!window.contains(entry.created_s) || faults.drop.count(entry.id)) {
      continue;
    }
    auto amount = entry.amount_minor;
    if (auto it = faults.amount_minor.find(entry.id);
        it != faults.amount_minor.end()) {
      amount = it->second;
    }
    rows.push_back(settlement_row(entry, amount));
    if (faults.duplicate.count(entry.id)) {
      rows.push_back(rows.back());
    }
  }
  return {{"from", bound_or_null(window.from_s)},
          {"to", bound_or_null(window.to_s)},
          {"lines", std::move(rows)}};
}

} // namespace psp::sim
