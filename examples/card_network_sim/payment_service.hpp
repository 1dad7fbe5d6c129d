#pragma once

// The core flows behind POST /v1/charges and POST /v1/refunds: validate,
// claim the idempotency key, execute once, store the answer. Knows nothing
// about HTTP or fault injection.

#include "idempotent_runner.hpp"
#include "types.hpp"

#include <string>

namespace psp::sim {

class idempotency_table;
class ledger_book;
class sim_journal;
struct charge_request;
struct sim_stats;

/// Executes charges (captured at once or only authorised) and refunds
/// against a ledger, at most once per key.
class payment_service {
public:
  /// `journal`: where executed operations are made durable (none: kept
  /// in memory only).
  payment_service(ledger_book& ledger, idempotency_table& keys,
                  sim_stats& stats, sim_journal* journal = nullptr);

  /// `key` is the Idempotency-Key header (empty when missing).
  api_response charge(const std::string& key, const std::string& body);

  /// `key` is the Idempotency-Key header (empty when missing).
  api_response refund(const std::string& key, const std::string& body);

private:
  api_response execute_charge(const std::string& key,
                              const charge_request& req);
  api_response execute_refund(const std::string& key,
                              const std::string& charge_id,
                              int64_t amount_minor);

  ledger_book& ledger_;
  idempotent_runner runner_;
  sim_stats& stats_;
};

} // namespace psp::sim
