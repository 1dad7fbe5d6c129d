#pragma once

// Value types shared by the simulator's components: what a charge and a
// refund look like once recorded, what a settlement line records, and what
// an API call answers.

#include <cstdint>
#include <string>

namespace psp::sim {

/// Where a charge is in its life. Only `succeeded` has moved money.
enum class charge_status {
  /// The network refused the card; nothing was held or captured.
  declined,
  /// Approved and held, waiting for a capture or a void.
  authorized,
  /// Captured (at once or later); `amount_captured_minor` moved.
  succeeded,
  /// An authorisation released without a capture.
  voided,
};

/// A charge as the network remembers it. Never holds the card number or CVC:
/// only the brand and the last four digits survive validation.
struct charge_record {
  std::string id;
  std::string reference;
  std::string idempotency_key;
  std::string merchant;
  std::string currency;
  std::string brand;
  std::string last4;
  /// Empty when the card was approved.
  std::string decline_code;
  /// The authorised amount.
  int64_t amount_minor = 0;
  int64_t refunded_minor = 0;
  int64_t created_s = 0;
  /// What the caller asked for: capture at once (the default) or only
  /// authorise. The ledger derives `status` from this and `decline_code`
  /// when it records the charge.
  bool auto_capture = true;
  charge_status status = charge_status::authorized;
  /// At most `amount_minor`; the rest of a partial capture is released.
  int64_t amount_captured_minor = 0;
  /// When the capture happened (0 while not captured).
  int64_t captured_s = 0;

  bool approved() const { return decline_code.empty(); }
  bool captured() const { return status == charge_status::succeeded; }
};

/// A refund against a captured charge.
struct refund_record {
  std::string id;
  std::string charge_id;
  std::string reference;
  std::string idempotency_key;
  std::string currency;
  int64_t amount_minor = 0;
  int64_t created_s = 0;
};

/// What a settlement line moved.
enum class settlement_kind { capture, refund };

/// One money movement as the network reports it for reconciliation, kept in
/// recording order. `id` is the charge id for a capture (one capture per
/// charge) and the refund id for a refund.
struct settlement_entry {
  settlement_kind kind = settlement_kind::capture;
  std::string id;
  std::string charge_id;
  std::string reference;
  std::string merchant;
  std::string currency;
  int64_t amount_minor = 0;
  int64_t created_s = 0;
};

/// What an endpoint answers, before fault injection decorates it.
struct api_response {
  int status = 200;
  /// Serialized JSON; stored verbatim for idempotent replays.
  std::string body;
  /// True when the answer was replayed from the idempotency table.
  bool replayed = false;
  /// True when this request executed the operation (and stored its result),
  /// which is the only case where an "error after charge" can be injected.
  bool processed = false;
  /// The ledger change this execution made, as a journal effect (JSON;
  /// empty when it changed nothing): replayed after a restart.
  std::string effect{};
};

} // namespace psp::sim
