#pragma once

// Reconciliation runs in Redis: `recon:run:<id>` (hash, see to_fields in
// recon_json.hpp) indexed by `recon:runs` (scored by start, ms); the
// operator event of a run with differences; the marker of a scheduled
// period. A run and its event and marker are written in one script, which
// for a scheduled run first checks that the caller still holds the lease
// and that the period is not done: so a period is stored once even if the
// lease moved to another node during the run.

#include "adapters/redis/redis_connection.hpp"
#include "runtime/recon_json.hpp"
#include "runtime/redis_lease.hpp"
#include "runtime/report_failure.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <variant>

namespace psp::recon {

/// The event type of a run that found differences. An operator event: it is
/// kept in `evt:<id>` with an empty merchant and `audience: operator`,
/// indexed in `events:operator`, never under a merchant and never delivered
/// to a merchant's webhook endpoints.
inline constexpr const char* differences_event_type
  = "reconciliation.differences_found";

enum class store_outcome { stored, lease_lost, already_done, failed };

/// Stores `run` (and its event when run.event is set). With `lease`, only
/// while it is held, and sets the marker of the run's period unless it was
/// set before.
store_outcome store_run(redis::connection& conn, const recon_run& run,
                        const reports::redis_lease* lease = nullptr);

/// Stores an operator event (as the differences event: `audience:
/// operator`, indexed in events:operator, never a merchant's) unless one
/// was stored under `once_key` within `once_ttl_s`: a condition seen on
/// every tick of every node is told once. False when it was told already
/// or Redis failed.
bool operator_event_once(redis::connection& conn, const std::string& once_key,
                         int64_t once_ttl_s, const std::string& type,
                         const nlohmann::json& data);

/// Stores an operator event (as above) every time: an operator's action
/// for the audit trail. False when Redis failed.
bool store_operator_event(redis::connection& conn, const std::string& type,
                          const nlohmann::json& data);

/// True when a scheduled run of `p` is stored; nullopt when Redis failed.
std::optional<bool> period_done(redis::connection& conn, const period& p);

/// The report of run `id` (recon_json's to_json shape).
std::variant<nlohmann::json, report_failure>
load_run(redis::connection& conn, const std::string& id);

/// A difference's identity across runs: "<kind>|<network_line>|<psp_txn>|
/// <side>", the same in every run of its period (and in a run of a longer
/// period holding it).
std::string difference_key(const nlohmann::json& difference);

/// Gives each difference of `report` its `resolution` (null when none) and
/// the report `unresolved`, the count of those without one.
std::optional<report_failure> add_resolutions(redis::connection& conn,
                                              nlohmann::json& report);

/// Marks difference `index` (0-based, as listed) of run `id` resolved with
/// the operator's `note`, once: kept for every run that finds it again,
/// with an operator event (`reconciliation.difference_resolved`). The
/// difference as listed with its resolution; not_found for an unknown run
/// or index, conflict when it was resolved before (naming that note).
std::variant<nlohmann::json, report_failure>
resolve_difference(redis::connection& conn, const std::string& id,
                   size_t index, const std::string& note);

/// The newest `limit` operator events (1..100), newest first:
/// {"object":"list","data":[{"id","type","created","audience","data"}]}.
std::variant<nlohmann::json, report_failure>
list_operator_events(redis::connection& conn, size_t limit);

/// The newest `limit` runs (1..100), newest first, without their
/// differences (counts only), as {"object":"list","data":[...]}.
std::variant<nlohmann::json, report_failure>
list_runs(redis::connection& conn, size_t limit);

} // namespace psp::recon
