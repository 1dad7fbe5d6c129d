#include "runtime/recon_runner.hpp"

#include "actors/clock.hpp"
#include "adapters/crypto/random_id.hpp"
#include "adapters/redis/clock_check.hpp"
#include "runtime/ledger_duplicates.hpp"
#include "runtime/recon_source.hpp"
#include "runtime/recon_store.hpp"

namespace psp::recon {

std::variant<recon_run, report_failure>
run_reconciliation(redis::connection& conn, const run_settings& cfg,
                   const period& p, const reports::redis_lease* lease) {
  recon_run run;
  run.id = crypto::new_id("recon_");
  run.trigger = cfg.trigger;
  run.node = cfg.node;
  // Whether the run is provisional (started within its period's grace)
  // is judged on Redis's clock, as the schedule's due periods are.
  run.started_s = redis::redis_time_s(conn).value_or(unix_now_s());
  auto window = widened(p, cfg.grace_s);
  auto psp = read_psp_entries(conn, window);
  if (auto* f = std::get_if<report_failure>(&psp)) {
    return *f;
  }
  auto network = fetch_settlement(cfg.network, window);
  if (auto* f = std::get_if<report_failure>(&network)) {
    return *f;
  }
  auto ledger = read_ledger_duplicates(conn, p, window);
  if (auto* f = std::get_if<report_failure>(&ledger)) {
    return *f;
  }
  run.result = reconcile(p, cfg.grace_s, std::get<0>(psp),
                         std::get<0>(network));
  for (auto& d : std::get<0>(ledger)) {
    ++run.result.counts.duplicate;
    run.result.differences.push_back(std::move(d));
  }
  run.finished_s = unix_now_s();
  if (!run.result.clean() && !run.provisional()) {
    // Told only when something is new to the operator: differences all
    // resolved before (an operator's note on each) raise no event.
    auto report = to_json(run);
    if (auto failed = add_resolutions(conn, report)) {
      return *failed;
    }
    if (report.value("unresolved", size_t{0}) > 0) {
      run.event = crypto::new_id("evt_");
    }
  }
  switch (store_run(conn, run, lease)) {
    case store_outcome::stored:
      return run;
    case store_outcome::failed:
      return report_failure{report_failure::kind::redis,
                            "cannot store the run: " + conn.last_error()};
    case store_outcome::already_done:
    case store_outcome::lease_lost:
      break;
  }
  return report_failure{report_failure::kind::lease_lost,
                        "the period was reconciled by another node"};
}

} // namespace psp::recon
