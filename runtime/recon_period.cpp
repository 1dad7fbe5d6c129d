#include "runtime/recon_period.hpp"

#include <algorithm>

namespace psp::recon {

bool valid_period(const period& p) {
  return p.from_s >= 0 && p.from_s < p.to_s
         && p.to_s - p.from_s <= period_length_s_max;
}

std::optional<std::string> unended_period(const period& p, int64_t now_s,
                                          const std::string& report,
                                          const std::string& to_name) {
  if (p.to_s <= now_s) {
    return std::nullopt;
  }
  return to_name + " (" + std::to_string(p.to_s) + ") is "
         + std::to_string(p.to_s - now_s) + " s in the future: " + report
         + " covers a period that has ended; give " + to_name + " "
         + std::to_string(now_s) + " (now) or earlier";
}

period widened(const period& p, int64_t grace_s) {
  return {std::max<int64_t>(0, p.from_s - grace_s), p.to_s + grace_s};
}

std::optional<period> latest_due_period(int64_t now_s, int64_t interval_s,
                                        int64_t grace_s) {
  if (now_s <= 0 || interval_s <= 0 || grace_s < 0) {
    return std::nullopt;
  }
  // The end must lie at least grace_s in the past: counterparts committed a
  // little after the end must have had the time to arrive.
  auto end_max = now_s - grace_s;
  if (end_max < interval_s) {
    return std::nullopt;
  }
  auto to_s = end_max / interval_s * interval_s;
  return period{to_s - interval_s, to_s};
}

std::vector<period> due_periods(int64_t now_s, int64_t interval_s,
                                int64_t grace_s, int64_t since_from_s,
                                size_t catch_up_max) {
  std::vector<period> out;
  auto latest = latest_due_period(now_s, interval_s, grace_s);
  if (!latest || catch_up_max == 0) {
    return out;
  }
  auto back = static_cast<int64_t>(catch_up_max - 1) * interval_s;
  auto first_from = std::max(latest->from_s - back, since_from_s);
  // Align a `since` that does not sit on a boundary (the interval changed).
  if (first_from % interval_s != 0) {
    first_from = (first_from / interval_s + 1) * interval_s;
  }
  for (auto from = first_from; from <= latest->from_s; from += interval_s) {
    out.push_back({from, from + interval_s});
  }
  return out;
}

} // namespace psp::recon
