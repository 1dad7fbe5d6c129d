#pragma once

// Value types shared by the simulator's components: what a charge and a
// refund look like once recorded, and what an API call answers.

#include <cstdint>
#include <string>

namespace psp::sim {

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
  /// Empty when the charge succeeded.
  std::string decline_code;
  int64_t amount_minor = 0;
  int64_t refunded_minor = 0;
  int64_t created_s = 0;

  bool succeeded() const { return decline_code.empty(); }
};

/// A refund against a succeeded charge.
struct refund_record {
  std::string id;
  std::string charge_id;
  std::string reference;
  std::string idempotency_key;
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
};

} // namespace psp::sim
