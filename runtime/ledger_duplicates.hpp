#pragma once

// Ledger transactions written more than once, for a reconciliation run. The
// run matches balance transactions against the network's report, and a
// balance transaction is one hash however often its step ran: a charge
// committed twice (decision 46's fault) matched the network line and left
// the run clean while the ledger and the balance held it twice. So the run
// also reads the ledger's own entries over its window and reports a
// transaction id that occurs more than once as a `duplicate` on side
// "ledger".

#include "adapters/redis/redis_connection.hpp"
#include "runtime/reconciliation.hpp"
#include "runtime/report_failure.hpp"

#include <variant>
#include <vector>

namespace psp::recon {

/// Reads `ledger:transactions` over `window` (entry ids are Redis's ms) and
/// returns one difference per transaction id written more than once whose
/// first copy is dated in `checked`.
std::variant<std::vector<difference>, report_failure>
read_ledger_duplicates(redis::connection& conn, const period& checked,
                       const period& window);

} // namespace psp::recon
