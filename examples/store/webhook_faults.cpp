#include "webhook_faults.hpp"

#include <nlohmann/json.hpp>

namespace store {

namespace {

using json = nlohmann::json;

// Reads an integer field in [lo, hi] into `out`; absent leaves `out` alone.
std::optional<std::string> read_int(const json& doc, const char* key,
                                    int64_t lo, int64_t hi, int64_t& out) {
  auto it = doc.find(key);
  if (it == doc.end()) {
    return std::nullopt;
  }
  if (!it->is_number_integer()) {
    return std::string(key) + " must be an integer";
  }
  auto value = it->get<int64_t>();
  if (value < lo || value > hi) {
    return std::string(key) + " must be between " + std::to_string(lo) +
           " and " + std::to_string(hi);
  }
  out = value;
  return std::nullopt;
}

} // namespace

std::optional<std::string> merge_fault_request(std::string_view body,
                                               fault_settings& current) {
  auto doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return std::string("body must be a JSON object");
  }
  fault_settings next = current;
  int64_t status = next.status;
  if (auto err =
          read_int(doc, "fail_next", 0, fault_fail_next_max, next.fail_next)) {
    return err;
  }
  // 2xx would be a "failure" the PSP counts as delivered; allow it anyway,
  // an experiment may want exactly that lie.
  if (auto err = read_int(doc, "status", 200, 599, status)) {
    return err;
  }
  if (auto err =
          read_int(doc, "delay_ms", 0, fault_delay_ms_max, next.delay_ms)) {
    return err;
  }
  if (auto it = doc.find("fail_all"); it != doc.end()) {
    if (!it->is_boolean()) {
      return std::string("fail_all must be true or false");
    }
    next.fail_all = it->get<bool>();
  }
  next.status = static_cast<int>(status);
  current = next;
  return std::nullopt;
}

void webhook_faults::set(const fault_settings& settings) {
  std::lock_guard<std::mutex> guard(mtx_);
  settings_ = settings;
}

fault_settings webhook_faults::get() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return settings_;
}

std::optional<injected_fault> webhook_faults::take() {
  std::lock_guard<std::mutex> guard(mtx_);
  if (settings_.fail_all) {
    return injected_fault{settings_.status, settings_.delay_ms};
  }
  if (settings_.fail_next > 0) {
    --settings_.fail_next;
    return injected_fault{settings_.status, settings_.delay_ms};
  }
  return std::nullopt;
}

} // namespace store
