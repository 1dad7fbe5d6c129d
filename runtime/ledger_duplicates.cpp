#include "runtime/ledger_duplicates.hpp"

#include "actors/decimal.hpp"
#include "adapters/redis/keys.hpp"
#include "runtime/ledger_check.hpp"

#include <string>
#include <unordered_map>

namespace psp::recon {

namespace {

constexpr size_t entries_per_read = 1000;

struct seen_txn {
  size_t copies = 0;
  int64_t first_created_s = 0;
  std::string intent;
  std::string merchant;
  std::string op;
};

std::string field_of(const redis::value& fields, const std::string& name) {
  for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    if (fields.elements[i].text() == name) {
      return fields.elements[i + 1].text();
    }
  }
  return {};
}

} // namespace

std::variant<std::vector<difference>, report_failure>
read_ledger_duplicates(redis::connection& conn, const period& checked,
                       const period& window) {
  std::unordered_map<std::string, seen_txn> seen;
  std::vector<std::string> order;
  std::string start = std::to_string(window.from_s * 1000);
  const std::string end = std::to_string(window.to_s * 1000 - 1);
  for (;;) {
    auto batch = conn.query({"XRANGE", keys::ledger_stream, start, end,
                             "COUNT", std::to_string(entries_per_read)});
    if (!batch || !batch->is_array()) {
      return report_failure{report_failure::kind::redis,
                            "cannot read the ledger: " + conn.last_error()};
    }
    for (auto& entry : batch->elements) {
      if (entry.elements.size() < 2) {
        continue;
      }
      auto& fields = entry.elements[1];
      auto txn = field_of(fields, "txn");
      auto [it, first] = seen.try_emplace(txn);
      auto& s = it->second;
      if (first) {
        order.push_back(txn);
        s.first_created_s = parse_integer(field_of(fields, "created"))
                              .value_or(0);
        s.intent = field_of(fields, "intent");
        s.merchant = field_of(fields, "merchant");
        s.op = field_of(fields, "op");
      }
      ++s.copies;
    }
    if (batch->elements.size() < entries_per_read) {
      break;
    }
    auto next = ledger::next_stream_id(batch->elements.back().elements.empty()
                                         ? std::string{}
                                         : batch->elements.back()
                                             .elements[0]
                                             .text());
    if (!next) {
      return report_failure{report_failure::kind::redis,
                            "the ledger holds an entry id that is not ms-seq"};
    }
    start = *next;
  }
  std::vector<difference> out;
  for (auto& txn : order) {
    auto& s = seen[txn];
    if (s.copies < 2 || !checked.contains(s.first_created_s)) {
      continue;
    }
    difference d;
    d.kind = difference_kind::duplicate;
    d.side = "ledger";
    d.copies = s.copies;
    d.psp_txn = txn;
    d.intent = s.intent;
    d.merchant = s.merchant;
    d.type = s.op; // the ledger's op: charge, authorize, capture, void, refund
    out.push_back(std::move(d));
  }
  return out;
}

} // namespace psp::recon
