#include "admin_views.hpp"

#include "json_codec.hpp"
#include "ledger_book.hpp"

#include <algorithm>
#include <charconv>
#include <tuple>

namespace psp::sim {

namespace {

using json = nlohmann::json;

bool parse_seconds(const std::string& text, int64_t& out) {
  auto first = text.data();
  auto last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, out);
  return ec == std::errc{} && ptr == last;
}

struct settlement_line {
  int64_t created_s;
  std::string id;
  json row;
};

json capture_row(const charge_record& c) {
  return {{"type", "capture"},        {"id", c.id},
          {"charge", c.id},           {"reference", c.reference},
          {"amount", c.amount_minor}, {"currency", c.currency},
          {"created", c.created_s}};
}

json refund_row(const refund_record& r) {
  return {{"type", "refund"},         {"id", r.id},
          {"charge", r.charge_id},    {"reference", r.reference},
          {"amount", r.amount_minor}, {"currency", r.currency},
          {"created", r.created_s}};
}

bool inside(const settlement_window& w, int64_t created_s) {
  return created_s >= w.from_s && created_s < w.to_s;
}

} // namespace

std::optional<settlement_window>
parse_settlement_window(const std::string& from, const std::string& to) {
  settlement_window w;
  if (!from.empty() && !parse_seconds(from, w.from_s)) {
    return std::nullopt;
  }
  if (!to.empty() && !parse_seconds(to, w.to_s)) {
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

json settlement_view(const std::vector<charge_record>& charges,
                     const std::vector<refund_record>& refunds,
                     const settlement_window& window) {
  std::vector<settlement_line> lines;
  for (const auto& c : charges) {
    if (c.succeeded() && inside(window, c.created_s)) {
      lines.push_back({c.created_s, c.id, capture_row(c)});
    }
  }
  for (const auto& r : refunds) {
    if (inside(window, r.created_s)) {
      lines.push_back({r.created_s, r.id, refund_row(r)});
    }
  }
  std::sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) {
    return std::tie(a.created_s, a.id) < std::tie(b.created_s, b.id);
  });
  json rows = json::array();
  for (auto& line : lines) {
    rows.push_back(std::move(line.row));
  }
  return {{"lines", std::move(rows)}};
}

} // namespace psp::sim
