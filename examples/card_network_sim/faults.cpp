#include "faults.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace psp::sim {

namespace {

using json = nlohmann::json;

std::optional<std::string> read_rate(const json& v, double& out) {
  if (!v.is_number() || v.get<double>() < 0.0 || v.get<double>() > 1.0) {
    return "must be a number from 0 to 1";
  }
  out = v.get<double>();
  return std::nullopt;
}

std::optional<std::string> read_delay(const json& v, int64_t& out) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
      v.get<int64_t>() > fault_delay_ms_max) {
    return "must be an integer from 0 to 120000";
  }
  out = v.get<int64_t>();
  return std::nullopt;
}

std::optional<std::string> apply_field(const std::string& name, const json& v,
                                       fault_knobs& k) {
  if (name == "latency_ms") {
    return read_delay(v, k.latency_ms);
  }
  if (name == "latency_jitter_ms") {
    return read_delay(v, k.latency_jitter_ms);
  }
  if (name == "timeout_ms") {
    return read_delay(v, k.timeout_ms);
  }
  if (name == "error_rate") {
    return read_rate(v, k.error_rate);
  }
  if (name == "error_after_charge_rate") {
    return read_rate(v, k.error_after_charge_rate);
  }
  if (name == "timeout_rate") {
    return read_rate(v, k.timeout_rate);
  }
  if (name == "blackhole") {
    if (!v.is_boolean()) {
      return "must be true or false";
    }
    k.blackhole = v.get<bool>();
    return std::nullopt;
  }
  return "is not a fault knob";
}

} // namespace

std::optional<std::string> apply_fault_patch(const json& patch,
                                             fault_knobs& knobs) {
  if (!patch.is_object()) {
    return "body must be a JSON object";
  }
  auto updated = knobs;
  for (auto& [name, value] : patch.items()) {
    if (auto err = apply_field(name, value, updated)) {
      return name + " " + *err;
    }
  }
  knobs = updated;
  return std::nullopt;
}

json to_json(const fault_knobs& k) {
  return json{{"latency_ms", k.latency_ms},
              {"latency_jitter_ms", k.latency_jitter_ms},
              {"error_rate", k.error_rate},
              {"error_after_charge_rate", k.error_after_charge_rate},
              {"timeout_rate", k.timeout_rate},
              {"timeout_ms", k.timeout_ms},
              {"blackhole", k.blackhole}};
}

fault_plan draw_fault_plan(const fault_knobs& k, std::mt19937_64& rng) {
  // Always draw the same number of values so one knob's setting does not
  // shift the random stream seen by the others.
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  auto before = unit(rng);
  auto after = unit(rng);
  auto timeout = unit(rng);
  auto jitter = unit(rng);
  fault_plan plan;
  plan.blackhole = k.blackhole;
  plan.fail_before = before < k.error_rate;
  plan.fail_after = after < k.error_after_charge_rate;
  plan.delay_ms =
      k.latency_ms + static_cast<int64_t>(jitter * (k.latency_jitter_ms + 1));
  plan.delay_ms = std::min(plan.delay_ms, k.latency_ms + k.latency_jitter_ms);
  if (timeout < k.timeout_rate) {
    plan.delay_ms += k.timeout_ms;
  }
  return plan;
}

fault_injector::fault_injector(fault_knobs initial, uint64_t seed)
    : initial_(initial), seed_(seed), knobs_(initial), rng_(seed) {
  // nop
}

fault_knobs fault_injector::knobs() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return knobs_;
}

std::optional<std::string> fault_injector::patch(const json& patch) {
  std::optional<std::string> err;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    err = apply_fault_patch(patch, knobs_);
  }
  changed_cv_.notify_all();
  return err;
}

fault_plan fault_injector::draw() {
  std::lock_guard<std::mutex> guard{mtx_};
  return draw_fault_plan(knobs_, rng_);
}

void fault_injector::reset() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    knobs_ = initial_;
    rng_.seed(seed_);
  }
  changed_cv_.notify_all();
}

bool fault_injector::delay(int64_t ms) {
  // Latency plus a timeout can add up to twice the per-knob bound.
  ms = std::clamp<int64_t>(ms, 0, 2 * fault_delay_ms_max);
  if (ms == 0) {
    return true;
  }
  std::unique_lock<std::mutex> lock{mtx_};
  return !changed_cv_.wait_for(lock, std::chrono::milliseconds{ms},
                               [this] { return stopping_; });
}

void fault_injector::hold_blackhole() {
  std::unique_lock<std::mutex> lock{mtx_};
  changed_cv_.wait_for(lock, blackhole_hold_max,
                       [this] { return stopping_ || !knobs_.blackhole; });
}

void fault_injector::shutdown() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  changed_cv_.notify_all();
}

} // namespace psp::sim
