#pragma once

// The flows behind POST /v1/charges/{id}/capture and /void: validate, claim
// the idempotency key, change the authorisation once, store the answer.
// Knows nothing about HTTP or fault injection.

#include "idempotent_runner.hpp"
#include "types.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace psp::sim {

class idempotency_table;
class ledger_book;
class sim_journal;
struct charge_update;
struct sim_stats;

/// Captures and voids authorisations, at most once per key. Refusals
/// (unknown charge, already captured, voided, declined, amount too large)
/// are executed outcomes: they are stored and replayed like a 200.
class authorization_service {
public:
  /// `journal`: where executed operations are made durable (none: kept
  /// in memory only).
  authorization_service(ledger_book& ledger, idempotency_table& keys,
                        sim_stats& stats, sim_journal* journal = nullptr);

  /// `key` is the Idempotency-Key header (empty when missing), `charge_id`
  /// the path segment, `body` empty or `{"amount": N}`.
  api_response capture(const std::string& key, const std::string& charge_id,
                       const std::string& body);

  /// `key` is the Idempotency-Key header; the body is not read.
  api_response void_charge(const std::string& key,
                           const std::string& charge_id);

private:
  api_response execute_capture(const std::string& charge_id,
                               std::optional<int64_t> amount_minor);
  api_response execute_void(const std::string& charge_id);

  ledger_book& ledger_;
  idempotent_runner runner_;
  sim_stats& stats_;
};

/// The stored answer for a capture or void attempt: the charge object on
/// success, else the Stripe-like error for the refusal.
api_response authorization_answer(const std::string& charge_id,
                                  const charge_update& update);

} // namespace psp::sim
