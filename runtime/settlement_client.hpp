#pragma once

// Reads the card network's settlement report (GET /admin/settlement) for a
// window of time. Blocking: call it from psp-admin, an HTTP handler thread
// or the scheduler's thread, never from CAF's scheduler.

#include "runtime/recon_period.hpp"
#include "runtime/reconciliation.hpp"
#include "runtime/report_failure.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace psp::recon {

struct settlement_settings {
  std::string base_url;             ///< e.g. http://127.0.0.1:4010
  uint32_t connect_timeout_ms = 2'000;
  uint32_t read_timeout_ms = 10'000;
  /// A larger report is refused rather than read into memory.
  size_t body_bytes_max = 256 * 1024 * 1024;
};

/// The lines whose `created` lies in `window`, or why they could not be read
/// (kind card_network).
std::variant<std::vector<network_line>, report_failure>
fetch_settlement(const settlement_settings& cfg, const period& window);

} // namespace psp::recon
