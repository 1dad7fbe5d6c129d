// A test knob that makes the webhook endpoint fail on purpose, so experiments
// can watch the PSP retry and dead-letter deliveries. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace store {

/// What to do to one webhook request instead of handling it.
struct injected_fault {
  int status = 500;
  int64_t delay_ms = 0;
};

/// The knob's settings, as set by POST /admin/webhook_faults.
struct fault_settings {
  int64_t fail_next = 0; ///< fail this many more requests
  bool fail_all = false; ///< fail every request until turned off
  int status = 500;      ///< HTTP status of a failed request
  int64_t delay_ms = 0;  ///< wait before answering a failed request
};

/// Limits on the knob, so a typo cannot park the server for hours.
constexpr int64_t fault_delay_ms_max = 60'000;
constexpr int64_t fault_fail_next_max = 1'000'000;

/// Merges a JSON request such as {"fail_next":3,"status":500,"delay_ms":0} or
/// {"fail_all":true} into `current`. Absent fields keep their value. Returns
/// an error message for bad JSON, wrong types or values out of range.
std::optional<std::string> merge_fault_request(std::string_view body,
                                               fault_settings& current);

class webhook_faults {
public:
  /// Replaces the settings.
  void set(const fault_settings& settings);

  fault_settings get() const;

  /// Called once per webhook request: the fault to inject, if any, counting
  /// down `fail_next`.
  std::optional<injected_fault> take();

private:
  mutable std::mutex mtx_;
  fault_settings settings_;
};

} // namespace store
