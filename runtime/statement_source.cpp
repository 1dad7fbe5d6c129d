#include "runtime/statement_source.hpp"

#include "adapters/redis/keys.hpp"
#include "runtime/balance_reader.hpp"
#include "runtime/ledger_check.hpp"
#include "runtime/statement_ledger.hpp"
#include "runtime/statement_render.hpp"

namespace psp::statement {

namespace {

using json = nlohmann::json;
using reports::hash_fields;

/// Stream entries per XRANGE.
constexpr size_t ledger_batch_max = 1'000;

statement_line to_line(const hash_fields& f) {
  statement_line l;
  l.txn = reports::text_field(f, "id");
  l.created_s = reports::int_field(f, "created").value_or(0);
  l.type = reports::text_field(f, "type");
  l.source = reports::text_field(f, "source");
  l.intent = reports::text_field(f, "intent");
  l.currency = reports::text_field(f, "currency");
  l.amount_minor = reports::int_field(f, "amount").value_or(0);
  l.fee_minor = reports::int_field(f, "fee").value_or(0);
  l.net_minor = reports::int_field(f, "net").value_or(0);
  return l;
}

/// One pass over the ledger up to the period's end (plus the clock slack).
std::variant<pending_ledger, report_failure>
scan_ledger(redis::connection& conn, const recon::period& p,
            const keep_going& check) {
  pending_ledger out{p};
  auto end = std::to_string((p.to_s + ledger_clock_slack_s) * 1000);
  std::string start = "-";
  size_t read = 0;
  for (;;) {
    auto batch = conn.query({"XRANGE", keys::ledger_stream, start, end,
                             "COUNT", std::to_string(ledger_batch_max)});
    if (!batch) {
      return reports::redis_failure(conn, keys::ledger_stream);
    }
    for (auto& entry : batch->elements) {
      if (entry.elements.size() != 2) {
        continue;
      }
      auto& kv = entry.elements[1].elements;
      std::string created;
      std::string postings;
      std::string merchant;
      for (size_t i = 0; i + 1 < kv.size(); i += 2) {
        if (kv[i].text() == "created") {
          created = kv[i + 1].text();
        } else if (kv[i].text() == "postings") {
          postings = kv[i + 1].text();
        } else if (kv[i].text() == "merchant") {
          merchant = kv[i + 1].text();
        }
      }
      auto created_s = ledger::parse_balance(created);
      if (created_s) {
        out.add_entry(*created_s, postings, merchant);
      }
    }
    read += batch->elements.size();
    if (check && read % (ledger_batch_max * ledger_batches_per_check) == 0
        && !check()) {
      return report_failure{report_failure::kind::lease_lost,
                            "stopped while reading the ledger"};
    }
    if (read > ledger_entries_max) {
      return report_failure{report_failure::kind::too_large,
                            "the ledger holds more than "
                              + std::to_string(ledger_entries_max)
                              + " entries before the period's end"};
    }
    if (batch->elements.size() < ledger_batch_max) {
      return out;
    }
    auto& tail = batch->elements.back();
    auto next = ledger::next_stream_id(
      tail.elements.empty() ? "" : tail.elements[0].text());
    if (!next) {
      return out;
    }
    start = *next;
  }
}

/// Names of the merchants (not_found for one without a hash).
std::variant<std::vector<std::string>, report_failure>
merchant_names(redis::connection& conn, const std::vector<std::string>& ids) {
  std::vector<std::vector<std::string>> reads;
  for (auto& id : ids) {
    reads.push_back({"HMGET", keys::merchant(id), "id", "name"});
  }
  std::vector<std::string> out;
  if (reads.empty()) {
    return out;
  }
  auto rows = conn.query_all(reads);
  if (!rows) {
    return reports::redis_failure(conn, "merchants");
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    auto& row = (*rows)[i];
    if (row.elements.size() != 2 || row.elements[0].is_nil()) {
      return report_failure{report_failure::kind::not_found,
                            "No such merchant: '" + ids[i] + "'"};
    }
    out.push_back(row.elements[1].text());
  }
  return out;
}

} // namespace

std::variant<std::vector<merchant_statement>, report_failure>
load_statements(redis::connection& conn,
                const std::vector<std::string>& merchant_ids,
                const recon::period& p, int64_t now_s,
                const keep_going& check) {
  auto names = merchant_names(conn, merchant_ids);
  if (auto* f = std::get_if<report_failure>(&names)) {
    return *f;
  }
  auto ledger = scan_ledger(conn, p, check);
  if (auto* f = std::get_if<report_failure>(&ledger)) {
    return *f;
  }
  std::vector<merchant_statement> out;
  for (size_t i = 0; i < merchant_ids.size(); ++i) {
    auto rows = reports::read_balance_transactions(conn, merchant_ids[i], p);
    if (auto* f = std::get_if<report_failure>(&rows)) {
      return *f;
    }
    auto balances = std::get<pending_ledger>(ledger).of(merchant_ids[i]);
    statement_input in;
    in.merchant_id = merchant_ids[i];
    in.merchant_name = std::get<std::vector<std::string>>(names)[i];
    in.covered = p;
    in.generated_s = now_s;
    in.opening = std::move(balances.opening);
    in.ledger_closing = std::move(balances.closing);
    for (auto& row : std::get<std::vector<hash_fields>>(rows)) {
      if (!row.empty()) {
        in.lines.push_back(to_line(row));
      }
    }
    out.push_back(build_statement(std::move(in)));
  }
  return out;
}

std::variant<merchant_statement, report_failure>
load_statement(redis::connection& conn, const std::string& merchant_id,
               const recon::period& p, int64_t now_s) {
  auto all = load_statements(conn, {merchant_id}, p, now_s);
  if (auto* f = std::get_if<report_failure>(&all)) {
    return *f;
  }
  return std::move(std::get<0>(all).front());
}

std::optional<report_failure> store_statement(redis::connection& conn,
                                              const merchant_statement& s) {
  auto from = std::to_string(s.covered.from_s);
  auto out = conn.query_all(
    {{"SET", keys::statement(s.merchant_id, s.covered.from_s),
      to_json(s).dump()},
     {"ZADD", keys::merchant_statements(s.merchant_id), from, from}});
  if (!out) {
    return reports::redis_failure(conn, "statements");
  }
  return std::nullopt;
}

std::variant<merchant_statement, report_failure>
load_stored_statement(redis::connection& conn, const std::string& merchant_id,
                      int64_t from_s) {
  auto key = keys::statement(merchant_id, from_s);
  auto text = conn.query({"GET", key});
  if (!text) {
    return reports::redis_failure(conn, key);
  }
  auto doc = json::parse(text->text(), nullptr, false);
  auto s = text->is_nil() || doc.is_discarded() ? std::nullopt
                                                : from_json(doc);
  if (!s) {
    return report_failure{report_failure::kind::not_found,
                          "No stored statement for '" + merchant_id
                            + "' from " + std::to_string(from_s)
                            + " (the schedule stores none of a period "
                              "without activity; ask for it by from and "
                              "to)"};
  }
  return std::move(*s);
}

std::variant<json, report_failure>
list_stored_statements(redis::connection& conn,
                       const std::string& merchant_id) {
  // An unknown merchant is a 404, as for its statement on demand, not an
  // empty list that reads as "nothing stored yet".
  auto known = merchant_names(conn, {merchant_id});
  if (auto* f = std::get_if<report_failure>(&known)) {
    return *f;
  }
  auto index = keys::merchant_statements(merchant_id);
  auto starts = conn.query({"ZREVRANGE", index, "0", "99"});
  if (!starts) {
    return reports::redis_failure(conn, index);
  }
  auto data = json::array();
  for (auto& from : starts->elements) {
    auto from_s = ledger::parse_balance(from.text());
    if (!from_s) {
      continue;
    }
    auto s = load_stored_statement(conn, merchant_id, *from_s);
    if (auto* st = std::get_if<merchant_statement>(&s)) {
      data.push_back(json{{"from", st->covered.from_s},
                          {"to", st->covered.to_s},
                          {"generated", st->generated_s},
                          {"consistent", st->consistent()},
                          {"transactions", st->lines.size()}});
    }
  }
  return json{{"object", "list"}, {"data", std::move(data)}};
}

} // namespace psp::statement
