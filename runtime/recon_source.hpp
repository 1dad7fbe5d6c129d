#pragma once

// The PSP side of a reconciliation, read from Redis: every merchant's
// balance transactions in a window, each keyed by the id the network gives
// it (the charge id for a charge; for a refund the network's refund id,
// stored on the PSP's refund as `network_refund`).

#include "adapters/redis/redis_connection.hpp"
#include "runtime/reconciliation.hpp"
#include "runtime/report_failure.hpp"

#include <variant>
#include <vector>

namespace psp::recon {

std::variant<std::vector<psp_entry>, report_failure>
read_psp_entries(redis::connection& conn, const period& window);

} // namespace psp::recon
