#pragma once

// Wire formats of reconciliation, without Redis or HTTP: the network's
// settlement report in, a run's report out (as the admin API and psp-admin
// print it and as `recon:run:<id>` stores it).

#include "runtime/reconciliation.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace psp::recon {

/// Differences stored and shown per run at most; the counts stay exact.
inline constexpr size_t stored_differences_max = 1'000;

/// One run: who ran what, when, and what it found.
struct recon_run {
  std::string id;      ///< recon_...
  std::string trigger; ///< "schedule" | "admin_api" | "cli"
  std::string node;    ///< the node id, or "psp-admin"
  int64_t started_s = 0;
  int64_t finished_s = 0;
  recon_result result;
  std::string event; ///< evt_... when differences were found, else ""

  /// "clean" or "differences".
  const char* status() const {
    return result.clean() ? "clean" : "differences";
  }
  /// When the counterparts of the period's last items have all had their
  /// grace window to arrive.
  int64_t settles_at_s() const { return result.checked.to_s + result.grace_s; }
  /// A run started before that: a difference may be a counterpart still
  /// on its way, so it raises no operator event (the scheduler never runs
  /// one; an on-demand run may, and says so).
  bool provisional() const { return started_s < settles_at_s(); }
};

/// Parses `{"lines":[{type,id,charge,reference,merchant,amount,currency,
/// created}]}` (GET /admin/settlement). A line missing `id`, `type`,
/// `amount`, `currency` or `created` is an error, not a silent skip: a
/// dropped line would look like a missing payment. `merchant` and `charge`
/// may be null.
std::variant<std::vector<network_line>, std::string>
parse_settlement(std::string_view body);

nlohmann::json to_json(const difference& d);
nlohmann::json to_json(const recon_counts& c);

/// The report: `{"id","object":"reconciliation_run","from","to","grace_s",
/// "started","finished","status","trigger","node","counts","differences",
/// "differences_truncated","event"}`, at most stored_differences_max
/// differences.
nlohmann::json to_json(const recon_run& run);

/// The hash fields of `recon:run:<id>` (counts and differences as JSON).
std::vector<std::pair<std::string, std::string>>
to_fields(const recon_run& run);

/// A stored hash back to the report of to_json(recon_run); a discarded
/// value when a field is missing or malformed.
nlohmann::json report_from_fields(const std::map<std::string, std::string>& f);

/// The snapshot of the operator event `reconciliation.differences_found`.
nlohmann::json event_snapshot(const recon_run& run);

} // namespace psp::recon
