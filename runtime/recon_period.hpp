#pragma once

// Periods of reconciliation and statements: half-open ranges of Unix seconds
// [from_s, to_s), and which of them the scheduler owes a run. Pure
// arithmetic (and the message of an unended period), no clock: the caller
// passes `now_s`.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace psp::recon {

/// A half-open range of Unix seconds: from_s <= t < to_s.
struct period {
  int64_t from_s = 0;
  int64_t to_s = 0;

  bool contains(int64_t t_s) const { return from_s <= t_s && t_s < to_s; }
  bool operator==(const period& other) const {
    return from_s == other.from_s && to_s == other.to_s;
  }
};

/// Longest period an on-demand run or statement may cover (a year and a
/// day): bounds the reads behind one request.
inline constexpr int64_t period_length_s_max = 367 * 86'400;

/// True when 0 <= from_s < to_s and the length is at most
/// period_length_s_max.
bool valid_period(const period& p);

/// Why `p` cannot be reported on yet, nullopt once it has ended (to_s <=
/// now_s). A statement or reconciliation is the account of an ended period:
/// before its end its lines and totals still change, yet the report would
/// read as final (and a period wholly ahead as an empty, clean one).
/// `report` names it ("a statement"), `to_name` the parameter ("--to").
std::optional<std::string> unended_period(const period& p, int64_t now_s,
                                          const std::string& report,
                                          const std::string& to_name);

/// The period widened by `grace_s` on both sides: where a counterpart of an
/// item in `p` may be found.
period widened(const period& p, int64_t grace_s);

/// The newest period of `interval_s` (aligned on the Unix epoch, so every
/// node computes the same boundaries) that ended at least `grace_s` before
/// `now_s`; nullopt when there is none yet or an argument is not positive.
std::optional<period> latest_due_period(int64_t now_s, int64_t interval_s,
                                        int64_t grace_s);

/// The periods the scheduler should make sure are reconciled at `now_s`,
/// oldest first: the latest due one and up to `catch_up_max - 1` before it,
/// none older than `since_from_s` (the first period the schedule ever
/// considered, so a fresh install does not reconcile back to 1970).
std::vector<period> due_periods(int64_t now_s, int64_t interval_s,
                                int64_t grace_s, int64_t since_from_s,
                                size_t catch_up_max);

} // namespace psp::recon
