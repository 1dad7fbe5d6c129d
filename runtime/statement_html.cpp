// The printable HTML form of a statement: a self-contained page (no scripts,
// no external assets) with the summary per currency first, then every
// transaction; amounts written for people ("20.00 USD").

#include "runtime/statement_render.hpp"

#include "actors/currency.hpp"

namespace psp::statement {

namespace {

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string money(int64_t amount_minor, const std::string& currency) {
  return escape(format_amount(amount_minor, currency));
}

const char* page_style = R"css(
body { font-family: sans-serif; margin: 2em; color: #111; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
p.meta { color: #444; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 1em 0 2em; }
th, td { border-bottom: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
p.warning { color: #a00; font-weight: bold; }
@media print { body { margin: 0; } a { color: inherit; } }
)css";

std::string summary_table(const merchant_statement& s) {
  std::string out = "<h2>Summary</h2>\n<table>\n<tr><th>Currency</th>"
                    "<th class=\"num\">Opening balance</th>"
                    "<th class=\"num\">Charges</th>"
                    "<th class=\"num\">Refunds</th>"
                    "<th class=\"num\">Fees</th>"
                    "<th class=\"num\">Net</th>"
                    "<th class=\"num\">Closing balance</th></tr>\n";
  for (auto& t : s.totals) {
    auto& c = t.currency;
    out += "<tr><td>" + escape(c) + "</td><td class=\"num\">" +
           money(t.opening_minor, c) + "</td><td class=\"num\">" +
           money(t.charges_minor, c) + "</td><td class=\"num\">" +
           money(t.refunds_minor, c) + "</td><td class=\"num\">" +
           money(-t.fees_minor, c) + "</td><td class=\"num\">" +
           money(t.net_minor, c) + "</td><td class=\"num\">" +
           money(t.closing_minor, c) + "</td></tr>\n";
  }
  return out + "</table>\n";
}

std::string lines_table(const merchant_statement& s) {
  std::string out = "<h2>Transactions</h2>\n";
  if (s.lines.empty()) {
    return out + "<p>No transactions in this period.</p>\n";
  }
  out += "<table>\n<tr><th>Date (UTC)</th><th>Type</th><th>Source</th>"
         "<th>Payment</th><th class=\"num\">Amount</th>"
         "<th class=\"num\">Fee</th><th class=\"num\">Net</th></tr>\n";
  for (auto& l : s.lines) {
    auto& c = l.currency;
    out += "<tr><td>" + escape(utc_timestamp(l.created_s)) + "</td><td>" +
           escape(l.type) + "</td><td>" + escape(l.source) + "</td><td>" +
           escape(l.intent) + "</td><td class=\"num\">" +
           money(l.amount_minor, c) + "</td><td class=\"num\">" +
           money(l.fee_minor, c) + "</td><td class=\"num\">" +
           money(l.net_minor, c) + "</td></tr>\n";
  }
  return out + "</table>\n";
}

} // namespace

std::string render_html(const merchant_statement& s) {
  auto period = escape(utc_timestamp(s.covered.from_s)) + " to " +
                escape(utc_timestamp(s.covered.to_s));
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                    "<meta charset=\"utf-8\">\n<title>Statement " +
                    escape(s.merchant_id) + " " + period + "</title>\n<style>" +
                    page_style + "</style>\n</head>\n<body>\n";
  out += "<h1>Statement for " + escape(s.merchant_name) + "</h1>\n";
  out += "<p class=\"meta\">Merchant " + escape(s.merchant_id) + "<br>Period " +
         period + " (end excluded)<br>Generated " +
         escape(utc_timestamp(s.generated_s)) + "</p>\n";
  if (!s.consistent()) {
    out += "<p class=\"warning\">The closing balance differs from the "
           "ledger's balance at the end of the period; the statement is "
           "under review.</p>\n";
  }
  out += summary_table(s) + lines_table(s) + "</body>\n</html>\n";
  return out;
}

} // namespace psp::statement
