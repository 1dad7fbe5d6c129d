#include "runtime/statement_render.hpp"

#include <ctime>

namespace psp::statement {

namespace {

using json = nlohmann::json;

json line_json(const statement_line& l) {
  return json{{"id", l.txn},          {"created", l.created_s},
              {"date", utc_timestamp(l.created_s)},
              {"type", l.type},       {"source", l.source},
              {"intent", l.intent},   {"currency", l.currency},
              {"amount_minor", l.amount_minor},
              {"fee_minor", l.fee_minor},
              {"net_minor", l.net_minor}};
}

json totals_json(const currency_totals& t) {
  return json{{"currency", t.currency},
              {"opening_minor", t.opening_minor},
              {"charges_minor", t.charges_minor},
              {"refunds_minor", t.refunds_minor},
              {"fees_minor", t.fees_minor},
              {"net_minor", t.net_minor},
              {"closing_minor", t.closing_minor},
              {"ledger_closing_minor", t.ledger_closing_minor
                                         ? json(*t.ledger_closing_minor)
                                         : json(nullptr)},
              {"transactions", t.transactions},
              {"consistent", t.consistent()}};
}

template <class T>
bool read(const json& doc, const char* key, T& out) {
  auto it = doc.find(key);
  if (it == doc.end()) {
    return false;
  }
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) {
      return false;
    }
  } else if (!it->is_number_integer()) {
    return false;
  }
  out = it->get<T>();
  return true;
}

std::optional<statement_line> line_from_json(const json& l) {
  statement_line out;
  if (!l.is_object() || !read(l, "id", out.txn)
      || !read(l, "created", out.created_s) || !read(l, "type", out.type)
      || !read(l, "source", out.source) || !read(l, "intent", out.intent)
      || !read(l, "currency", out.currency)
      || !read(l, "amount_minor", out.amount_minor)
      || !read(l, "fee_minor", out.fee_minor)
      || !read(l, "net_minor", out.net_minor)) {
    return std::nullopt;
  }
  return out;
}

std::optional<currency_totals> totals_from_json(const json& t) {
  currency_totals out;
  if (!t.is_object() || !read(t, "currency", out.currency)
      || !read(t, "opening_minor", out.opening_minor)
      || !read(t, "charges_minor", out.charges_minor)
      || !read(t, "refunds_minor", out.refunds_minor)
      || !read(t, "fees_minor", out.fees_minor)
      || !read(t, "net_minor", out.net_minor)
      || !read(t, "closing_minor", out.closing_minor)
      || !read(t, "transactions", out.transactions)) {
    return std::nullopt;
  }
  int64_t ledger = 0;
  if (read(t, "ledger_closing_minor", ledger)) {
    out.ledger_closing_minor = ledger;
  }
  return out;
}

} // namespace

std::optional<statement_format> parse_format(const std::string& text) {
  if (text == "json") {
    return statement_format::json;
  }
  if (text == "csv") {
    return statement_format::csv;
  }
  if (text == "html") {
    return statement_format::html;
  }
  return std::nullopt;
}

const char* content_type(statement_format f) {
  switch (f) {
    case statement_format::json:
      return "application/json";
    case statement_format::csv:
      return "text/csv; charset=utf-8";
    case statement_format::html:
      return "text/html; charset=utf-8";
  }
  return "application/octet-stream";
}

std::string utc_timestamp(int64_t unix_s) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json to_json(const merchant_statement& s) {
  auto lines = json::array();
  for (auto& l : s.lines) {
    lines.push_back(line_json(l));
  }
  auto totals = json::array();
  for (auto& t : s.totals) {
    totals.push_back(totals_json(t));
  }
  return json{{"object", "statement"},
              {"merchant", s.merchant_id},
              {"merchant_name", s.merchant_name},
              {"from", s.covered.from_s},
              {"to", s.covered.to_s},
              {"generated", s.generated_s},
              {"consistent", s.consistent()},
              {"totals", std::move(totals)},
              {"lines", std::move(lines)}};
}

std::optional<merchant_statement> from_json(const json& doc) {
  merchant_statement out;
  if (!doc.is_object() || !read(doc, "merchant", out.merchant_id)
      || !read(doc, "merchant_name", out.merchant_name)
      || !read(doc, "from", out.covered.from_s)
      || !read(doc, "to", out.covered.to_s)
      || !read(doc, "generated", out.generated_s)
      || !doc.contains("lines") || !doc["lines"].is_array()
      || !doc.contains("totals") || !doc["totals"].is_array()) {
    return std::nullopt;
  }
  for (auto& l : doc["lines"]) {
    auto line = line_from_json(l);
    if (!line) {
      return std::nullopt;
    }
    out.lines.push_back(std::move(*line));
  }
  for (auto& t : doc["totals"]) {
    auto totals = totals_from_json(t);
    if (!totals) {
      return std::nullopt;
    }
    out.totals.push_back(std::move(*totals));
  }
  return out;
}

std::string render(const merchant_statement& s, statement_format f) {
  switch (f) {
    case statement_format::csv:
      return render_csv(s);
    case statement_format::html:
      return render_html(s);
    case statement_format::json:
      break;
  }
  return to_json(s).dump(2) + "\n";
}

} // namespace psp::statement
