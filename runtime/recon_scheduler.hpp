#pragma once

// The scheduled reconciliation and statements: a plain thread owned by the
// node (blocking Redis and HTTP calls must stay off CAF's scheduler) that
// wakes every few seconds, works out which periods are due (every
// `interval_s`, aligned on the epoch, once `grace_s` has passed after the
// end), and for each period not yet marked done takes the cluster-wide lease
// (`recon:lease`, SET NX PX with this node's owner token, renewed between
// steps, released after), stores every merchant's statement and then the
// run, whose store step checks the lease and sets the period's marker
// atomically. So two nodes never run together and a period is stored once.

#include "adapters/redis/clock_check.hpp"
#include "adapters/redis/redis_connection.hpp"
#include "runtime/periodic_thread.hpp"
#include "runtime/recon_period.hpp"
#include "runtime/recon_runner.hpp"
#include "runtime/redis_lease.hpp"
#include "runtime/statement.hpp"

#include <functional>
#include <optional>

namespace psp {

struct scheduler_settings {
  int64_t interval_s = 3'600; ///< period length; 0 disables
  recon::run_settings recon;  ///< grace, network, node id
  redis::endpoint where;
  uint32_t redis_timeout_ms = 2'000;
  /// Lease lifetime; renewed before each step, so it must outlast the
  /// slowest step (a settlement read is bounded by its read timeout).
  uint32_t lease_ms = 60'000;
  /// Periods caught up per wake-up after a pause (all nodes were down).
  size_t catch_up_max = 24;
};

class recon_scheduler {
public:
  explicit recon_scheduler(scheduler_settings cfg);

  /// Starts the thread (nothing when interval_s is 0).
  void start();
  /// Wakes the thread, lets its current step finish and joins it.
  void stop() { thread_.stop(); }

private:
  void tick(redis::connection& conn);
  /// Statements then the run of one period, under the lease; false when
  /// the lease is gone or a step failed (the period stays due).
  bool run_period(redis::connection& conn, reports::redis_lease& lease,
                  const recon::period& p);
  /// Every merchant's statement of `p`, stored; how many, or nullopt when a
  /// step failed or `still_mine` said the lease is gone.
  std::optional<size_t>
  write_statements(redis::connection& conn, const recon::period& p,
                   const std::function<bool()>& still_mine);
  /// A statement whose closing balance is not the ledger's: logged, and
  /// an operator event (statement.inconsistent) once.
  void tell_inconsistent(redis::connection& conn,
                         const statement::merchant_statement& s);
  /// When the catch-up window is full and the period just before it was
  /// never run, the schedule will not go back for it: logged, and an
  /// operator event (reconciliation.periods_skipped) once.
  void tell_if_skipped(redis::connection& conn,
                       const recon::period& oldest_in_window,
                       int64_t since_from_s);
  bool stopping() const { return thread_.stopping(); }
  /// Logs once when this node's clock moves more than a second away from
  /// Redis's, and once when it is back.
  void watch_clock(const redis::clock_offset& offset);

  /// As the start-up check warns (clock_check.cpp).
  static constexpr int64_t clock_warn_above_ms = 1'000;

  const scheduler_settings cfg_;
  redis::connection conn_;
  bool clock_off_ = false; ///< on the scheduler's thread only
  // Last: stopped (joined) before the members its rounds use are destroyed.
  periodic_thread thread_;
};

} // namespace psp
