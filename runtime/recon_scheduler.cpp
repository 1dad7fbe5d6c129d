#include "runtime/recon_scheduler.hpp"

#include "actors/clock.hpp"
#include "adapters/crypto/random_id.hpp"
#include "adapters/redis/keys.hpp"
#include "runtime/balance_reader.hpp"
#include "runtime/ledger_check.hpp"
#include "runtime/recon_store.hpp"
#include "runtime/statement_source.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace psp {

namespace {

/// How often the thread wakes: a quarter of the interval, within bounds, so
/// a due period starts soon after its grace window closes.
std::chrono::milliseconds tick_of(int64_t interval_s) {
  return std::chrono::milliseconds{
    std::clamp<int64_t>(interval_s * 1000 / 4, 200, 30'000)};
}

/// The first period the schedule considers (set once, by whoever is
/// first): the one in progress when the first node started, so a fresh
/// install does not reconcile back to 1970 and a node start is not a run.
/// Later, the stored value lets a restart catch up on missed periods.
std::optional<int64_t> since_from(redis::connection& conn,
                                  int64_t first_from_s) {
  auto set = conn.run({"SET", keys::recon_schedule_since,
                       std::to_string(first_from_s), "NX"});
  auto got = conn.query({"GET", keys::recon_schedule_since});
  if (!set || !got || got->is_nil()) {
    return std::nullopt;
  }
  return ledger::parse_balance(got->text());
}

} // namespace

recon_scheduler::recon_scheduler(scheduler_settings cfg)
  : cfg_(std::move(cfg)),
    conn_(cfg_.where, cfg_.redis_timeout_ms),
    thread_("psp.recon",
            static_cast<uint32_t>(tick_of(cfg_.interval_s).count()),
            [this] { tick(conn_); }) {
}

void recon_scheduler::start() {
  if (cfg_.interval_s > 0) {
    thread_.start();
  }
}

void recon_scheduler::tick(redis::connection& conn) {
  auto now = unix_now_s();
  auto grace = cfg_.recon.grace_s;
  auto latest = recon::latest_due_period(now, cfg_.interval_s, grace);
  if (!latest) {
    return;
  }
  auto since = since_from(conn, latest->to_s);
  if (!since) {
    spdlog::warn("event=reconcile_schedule_skipped reason=\"{}\"",
                 conn.last_error());
    return;
  }
  std::vector<recon::period> due;
  for (auto& p : recon::due_periods(now, cfg_.interval_s, grace, *since,
                                    cfg_.catch_up_max)) {
    auto done = recon::period_done(conn, p);
    if (done && !*done) {
      due.push_back(p);
    }
  }
  if (due.empty()) {
    return;
  }
  reports::redis_lease lease{keys::recon_lease,
                             cfg_.recon.node + ":" + crypto::new_id(""),
                             cfg_.lease_ms};
  auto mine = lease.acquire(conn);
  if (!mine || !*mine) {
    return; // another node is at it (or Redis is away): next tick
  }
  for (auto& p : due) {
    if (stopping() || !run_period(conn, lease, p)) {
      break;
    }
  }
  lease.release(conn);
}

bool recon_scheduler::run_period(redis::connection& conn,
                                 reports::redis_lease& lease,
                                 const recon::period& p) {
  auto done = recon::period_done(conn, p);
  if (!done || *done) {
    return done.has_value(); // reconciled meanwhile: go on with the next
  }
  auto still_mine = [&] {
    auto renewed = lease.renew(conn);
    return renewed && *renewed;
  };
  auto statements = write_statements(conn, p, still_mine);
  if (!statements || !still_mine()) {
    return false;
  }
  auto run = recon::run_reconciliation(conn, cfg_.recon, p, &lease);
  if (auto* f = std::get_if<report_failure>(&run)) {
    spdlog::warn("event=reconcile_failed from={} to={} reason=\"{}\"",
                 p.from_s, p.to_s, f->message);
    return false;
  }
  auto& r = std::get<recon::recon_run>(run);
  auto log = r.result.clean() ? spdlog::level::info : spdlog::level::warn;
  spdlog::log(log,
              "event=reconciled run={} from={} to={} status={} "
              "differences={} statements={}",
              r.id, p.from_s, p.to_s, r.status(), r.result.differences.size(),
              *statements);
  return true;
}

std::optional<size_t>
recon_scheduler::write_statements(redis::connection& conn,
                                  const recon::period& p,
                                  const std::function<bool()>& still_mine) {
  auto merchants = reports::read_merchants(conn);
  if (auto* f = std::get_if<report_failure>(&merchants)) {
    spdlog::warn("event=statements_failed from={} reason=\"{}\"", p.from_s,
                 f->message);
    return std::nullopt;
  }
  if (!still_mine()) {
    return std::nullopt;
  }
  auto statements = statement::load_statements(
    conn, std::get<std::vector<std::string>>(merchants), p, unix_now_s(),
    still_mine);
  if (auto* f = std::get_if<report_failure>(&statements)) {
    spdlog::warn("event=statements_failed from={} to={} reason=\"{}\"",
                 p.from_s, p.to_s, f->message);
    return std::nullopt;
  }
  for (auto& s : std::get<0>(statements)) {
    if (auto f = statement::store_statement(conn, s)) {
      spdlog::warn("event=statements_failed from={} reason=\"{}\"", p.from_s,
                   f->message);
      return std::nullopt;
    }
  }
  return std::get<0>(statements).size();
}

} // namespace psp
