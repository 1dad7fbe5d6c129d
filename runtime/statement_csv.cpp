// The CSV form of a statement: one table a spreadsheet opens as is. Every
// row names its merchant and currency so files of several merchants or
// currencies can be concatenated; amounts stay integers of minor units (no
// decimal separator to misread); `balance_minor` is the running balance.

#include "runtime/statement_render.hpp"

#include <map>

namespace psp::statement {

namespace {

/// RFC 4180: quote a field holding a comma, quote or line break.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) {
    return text;
  }
  std::string out = "\"";
  for (char c : text) {
    out += c;
    if (c == '"') {
      out += '"';
    }
  }
  return out + "\"";
}

struct csv_row {
  std::string row;
  std::string currency;
  int64_t at_s = 0;
  const statement_line* line = nullptr;
  std::string amount_minor, fee_minor, net_minor, balance_minor;
};

} // namespace

std::string render_csv(const merchant_statement& s) {
  std::string out = "row,merchant,currency,date,created,id,type,source,"
                    "intent,amount_minor,fee_minor,net_minor,balance_minor\n";
  auto emit = [&](const csv_row& r) {
    auto* l = r.line;
    std::string fields[] = {
      r.row, s.merchant_id, r.currency, utc_timestamp(r.at_s),
      std::to_string(r.at_s), l ? l->txn : "", l ? l->type : "",
      l ? l->source : "", l ? l->intent : "", r.amount_minor, r.fee_minor,
      r.net_minor, r.balance_minor};
    std::string text;
    for (auto& f : fields) {
      text += (text.empty() ? "" : ",") + csv_field(f);
    }
    out += text + "\n";
  };
  auto n = [](int64_t v) { return std::to_string(v); };
  for (auto& t : s.totals) {
    auto from = s.covered.from_s;
    auto to = s.covered.to_s;
    emit({"opening", t.currency, from, nullptr, "", "", "",
          n(t.opening_minor)});
    auto balance = t.opening_minor;
    for (auto& l : s.lines) {
      if (l.currency != t.currency) {
        continue;
      }
      balance += l.net_minor;
      emit({"transaction", t.currency, l.created_s, &l, n(l.amount_minor),
            n(l.fee_minor), n(l.net_minor), n(balance)});
    }
    emit({"total_charges", t.currency, to, nullptr, n(t.charges_minor), "",
          "", ""});
    emit({"total_refunds", t.currency, to, nullptr, n(t.refunds_minor), "",
          "", ""});
    emit({"total_fees", t.currency, to, nullptr, "", n(t.fees_minor), "",
          ""});
    emit({"closing", t.currency, to, nullptr, "", "", n(t.net_minor),
          n(t.closing_minor)});
  }
  return out;
}

} // namespace psp::statement
