#include "runtime/recon_source.hpp"

#include "adapters/redis/keys.hpp"
#include "runtime/balance_reader.hpp"

namespace psp::recon {

namespace {

using reports::hash_fields;

psp_entry to_entry(const hash_fields& f, const std::string& merchant_id) {
  psp_entry e;
  e.txn = reports::text_field(f, "id");
  e.type = reports::text_field(f, "type");
  e.intent = reports::text_field(f, "intent");
  e.merchant = merchant_id;
  e.amount_minor = reports::int_field(f, "amount").value_or(0);
  e.currency = reports::text_field(f, "currency");
  e.created_s = reports::int_field(f, "created").value_or(0);
  // A charge's source is the network's charge id; a refund's is our refund
  // id, resolved below.
  if (e.type == "charge") {
    e.line_id = reports::text_field(f, "source");
  }
  return e;
}

/// Fills line_id of refunds from `re:<source>` `network_refund`.
std::optional<report_failure>
resolve_refunds(redis::connection& conn, std::vector<psp_entry>& entries,
                const std::vector<std::string>& sources) {
  std::vector<std::string> keys;
  std::vector<size_t> at;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].type == "refund" && !sources[i].empty()) {
      keys.push_back(keys::refund(sources[i]));
      at.push_back(i);
    }
  }
  auto refunds = reports::read_hashes(conn, keys);
  if (auto* f = std::get_if<report_failure>(&refunds)) {
    return *f;
  }
  auto& rows = std::get<std::vector<hash_fields>>(refunds);
  for (size_t k = 0; k < at.size(); ++k) {
    entries[at[k]].line_id = reports::text_field(rows[k], "network_refund");
  }
  return std::nullopt;
}

} // namespace

std::variant<std::vector<psp_entry>, report_failure>
read_psp_entries(redis::connection& conn, const period& window) {
  auto merchants = reports::read_merchants(conn);
  if (auto* f = std::get_if<report_failure>(&merchants)) {
    return *f;
  }
  std::vector<psp_entry> entries;
  std::vector<std::string> sources;
  for (auto& m : std::get<std::vector<std::string>>(merchants)) {
    auto rows = reports::read_balance_transactions(conn, m, window);
    if (auto* f = std::get_if<report_failure>(&rows)) {
      return *f;
    }
    for (auto& row : std::get<std::vector<hash_fields>>(rows)) {
      if (row.empty()) {
        continue; // indexed but gone: nothing to reconcile
      }
      entries.push_back(to_entry(row, m));
      sources.push_back(reports::text_field(row, "source"));
    }
  }
  if (auto f = resolve_refunds(conn, entries, sources)) {
    return *f;
  }
  return entries;
}

} // namespace psp::recon
