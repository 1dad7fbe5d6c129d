#pragma once

// Fault knobs for the payment endpoints (latency, injected errors, timeouts,
// a black hole), changed at run time through /admin/faults. Random decisions
// come from one seeded PRNG so a run with the same --seed and the same
// request order makes the same decisions.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace psp::sim {

/// Upper bound for every configurable delay.
constexpr int64_t fault_delay_ms_max = 120'000;

/// How long a black-holed request is held at most.
constexpr std::chrono::milliseconds blackhole_hold_max{60'000};

/// The knobs. Rates are fractions of requests in [0, 1].
struct fault_knobs {
  /// Added before every answer.
  int64_t latency_ms = 0;
  /// Uniform extra latency in [0, latency_jitter_ms].
  int64_t latency_jitter_ms = 0;
  /// Answer 503 before executing anything.
  double error_rate = 0.0;
  /// Execute and store the result, but answer 500.
  double error_after_charge_rate = 0.0;
  /// Sleep `timeout_ms` before answering normally.
  double timeout_rate = 0.0;
  int64_t timeout_ms = 30'000;
  /// Hold requests unanswered, then close the connection.
  bool blackhole = false;
};

/// The fault decisions for one request, drawn when it arrives.
struct fault_plan {
  bool blackhole = false;
  bool fail_before = false;
  bool fail_after = false;
  /// Latency, jitter and (if drawn) the timeout, summed.
  int64_t delay_ms = 0;
};

/// Applies a JSON patch (any subset of the knobs) to a copy of `knobs`.
/// Returns the error for an unknown field or an out-of-range value, in which
/// case `knobs` is left untouched.
std::optional<std::string> apply_fault_patch(const nlohmann::json& patch,
                                             fault_knobs& knobs);

/// The knobs as a JSON object with the same field names as the patch.
nlohmann::json to_json(const fault_knobs& knobs);

/// Decides one request's faults from `knobs` using `rng`.
fault_plan draw_fault_plan(const fault_knobs& knobs, std::mt19937_64& rng);

/// Owns the live knobs and the PRNG; performs the waits faults call for.
/// Every wait ends early on `shutdown`.
class fault_injector {
public:
  fault_injector(fault_knobs initial, uint64_t seed);

  fault_knobs knobs() const;

  /// See `apply_fault_patch`; wakes black-holed requests when turned off.
  std::optional<std::string> patch(const nlohmann::json& patch);

  fault_plan draw();

  /// Restores the start-up knobs and reseeds the PRNG.
  void reset();

  /// Sleeps `ms` (bounded by `fault_delay_ms_max`); false on shutdown.
  bool delay(int64_t ms);

  /// Waits while the black hole is on, at most `blackhole_hold_max`.
  void hold_blackhole();

  /// Ends every current and future wait.
  void shutdown();

private:
  const fault_knobs initial_;
  const uint64_t seed_;
  mutable std::mutex mtx_;
  std::condition_variable changed_cv_;
  fault_knobs knobs_;
  std::mt19937_64 rng_;
  bool stopping_ = false;
};

} // namespace psp::sim
