#include "runtime/recon_scheduler.hpp"

#include "actors/clock.hpp"
#include "adapters/crypto/random_id.hpp"
#include "adapters/redis/clock_check.hpp"
#include "adapters/redis/keys.hpp"
#include "runtime/balance_reader.hpp"
#include "runtime/ledger_check.hpp"
#include "runtime/recon_store.hpp"
#include "runtime/statement_source.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>

namespace psp {

namespace {

/// How often the thread wakes: a quarter of the interval, within bounds, so
/// a due period starts soon after its grace window closes.
std::chrono::milliseconds tick_of(int64_t interval_s) {
  return std::chrono::milliseconds{
    std::clamp<int64_t>(interval_s * 1000 / 4, 200, 30'000)};
}

/// How long a notice's marker keeps it from being told again: past the
/// catch-up window of any sane interval, so a condition still there after
/// it is told anew.
constexpr int64_t notice_ttl_s = 7 * 86'400;

std::string period_text(const recon::period& p) {
  return std::to_string(p.from_s) + ":" + std::to_string(p.to_s);
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
  // Redis's clock, not this node's: which periods have ended is decided
  // alike on every node (a node whose clock ran ahead stored periods that
  // had not ended as final, the clock audit).
  auto offset = redis::measure_clock_offset(conn);
  if (!offset) {
    return; // Redis away: next tick
  }
  watch_clock(*offset);
  auto now = (system_now_us() / 1000 - offset->offset_ms) / 1000;
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
  auto window = recon::due_periods(now, cfg_.interval_s, grace, *since,
                                   cfg_.catch_up_max);
  if (!window.empty() && window.size() == cfg_.catch_up_max) {
    tell_if_skipped(conn, window.front(), *since);
  }
  for (auto& p : window) {
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

void recon_scheduler::watch_clock(const redis::clock_offset& offset) {
  // The start-up check (decision 44) sees the clock once; an NTP step or
  // a drift later moved session expiry, webhook retries and leases on
  // this node with no word to the operator (the clock audit).
  bool off = std::llabs(offset.offset_ms) - offset.uncertainty_ms
             > clock_warn_above_ms;
  if (off && !clock_off_) {
    spdlog::warn("event=clock_offset offset_ms={} uncertainty_ms={} "
                 "\"this machine's clock and Redis's moved apart while the "
                 "node runs; the node stamps and judges time by Redis's "
                 "(decision 63), so if Redis's is the wrong one, webhook "
                 "signatures carry its time and merchants reject them "
                 "beyond their tolerance (5 min); synchronise both (NTP)\"",
                 offset.offset_ms, offset.uncertainty_ms);
  } else if (!off && clock_off_) {
    spdlog::info("event=clock_offset_recovered offset_ms={}",
                 offset.offset_ms);
  }
  clock_off_ = off;
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
    // Retried every tick; told once, where an operator looks.
    recon::operator_event_once(
      conn, keys::recon_notice("failed:" + period_text(p)), notice_ttl_s,
      "reconciliation.failed",
      {{"from", p.from_s}, {"to", p.to_s}, {"node", cfg_.recon.node},
       {"reason", f->message},
       {"note", "retried on every tick until it runs; this event is not "
                "repeated"}});
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
  size_t stored = 0;
  for (auto& s : std::get<0>(statements)) {
    if (s.idle()) {
      // An idle merchant's statement says only that its balance stood
      // still: ~550 B a merchant every period for good (the capacity
      // audit). One on demand renders it.
      continue;
    }
    if (auto f = statement::store_statement(conn, s)) {
      spdlog::warn("event=statements_failed from={} reason=\"{}\"", p.from_s,
                   f->message);
      return std::nullopt;
    }
    ++stored;
    if (!s.consistent()) {
      tell_inconsistent(conn, s);
    }
  }
  return stored;
}

void recon_scheduler::tell_inconsistent(redis::connection& conn,
                                        const statement::merchant_statement& s) {
  auto currencies = nlohmann::json::array();
  for (auto& t : s.totals) {
    if (!t.consistent()) {
      currencies.push_back({{"currency", t.currency},
                            {"closing", t.closing_minor},
                            {"ledger_closing", *t.ledger_closing_minor}});
    }
  }
  spdlog::warn("event=statement_inconsistent merchant={} from={} to={} "
               "currencies={}",
               s.merchant_id, s.covered.from_s, s.covered.to_s,
               currencies.dump());
  recon::operator_event_once(
    conn,
    keys::recon_notice("statement:" + s.merchant_id + ":"
                       + std::to_string(s.covered.from_s)),
    notice_ttl_s, "statement.inconsistent",
    {{"merchant", s.merchant_id}, {"from", s.covered.from_s},
     {"to", s.covered.to_s}, {"currencies", std::move(currencies)},
     {"note", "the statement's closing balance (opening + its lines) is not "
              "the ledger's balance at its end: a balance transaction and "
              "its ledger entry disagree; psp-admin verify-ledger and the "
              "stored statement say which"}});
}

void recon_scheduler::tell_if_skipped(redis::connection& conn,
                                      const recon::period& oldest_in_window,
                                      int64_t since_from_s) {
  recon::period before{oldest_in_window.from_s - cfg_.interval_s,
                       oldest_in_window.from_s};
  if (before.from_s < since_from_s) {
    return;
  }
  auto done = recon::period_done(conn, before);
  if (!done || *done) {
    return;
  }
  if (recon::operator_event_once(
        conn, keys::recon_notice("skipped:" + std::to_string(before.from_s)),
        notice_ttl_s, "reconciliation.periods_skipped",
        {{"since", since_from_s},
         {"before", oldest_in_window.from_s},
         {"catch_up_max", cfg_.catch_up_max},
         {"note", "the schedule catches up at most catch_up_max periods "
                  "back; periods from since to before that no run covered "
                  "(at least the one just before) stay unreconciled: run "
                  "them on demand (psp-admin reconcile --from --to)"}})) {
    spdlog::warn("event=reconcile_periods_skipped since={} before={} "
                 "catch_up_max={}",
                 since_from_s, oldest_in_window.from_s, cfg_.catch_up_max);
  }
}

} // namespace psp
