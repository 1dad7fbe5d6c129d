#pragma once

// Validation of incoming API requests: pure functions from raw header/body
// text to typed requests or a human-readable rejection.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace psp::sim {

/// Longest accepted idempotency key, reference, merchant or charge id.
constexpr size_t text_field_length_max = 255;

/// Largest accepted amount in minor units (Stripe's eight-digit limit).
constexpr int64_t amount_minor_max = 99'999'999;

/// A validated POST /v1/charges body. Holds the card only until the
/// verdict is computed; nothing downstream stores `card_number` or `cvc`.
struct charge_request {
  int64_t amount_minor = 0;
  std::string currency;
  std::string card_number;
  int exp_month = 0;
  int exp_year = 0;
  std::string cvc;
  std::string merchant;
  std::string reference;
  /// False asks for an authorisation only (capture later or void).
  bool capture = true;
};

/// What an idempotency key remembers of a charge's card: "brand last4
/// mm/yyyy" (never the number; two cards alike in all of these pass for one).
std::string card_fingerprint(const charge_request& req);

/// A validated POST /v1/refunds body.
struct refund_request {
  std::string charge_id;
  int64_t amount_minor = 0;
};

/// A validated POST /v1/charges/{id}/capture body.
struct capture_request {
  /// Absent: capture the full authorised amount.
  std::optional<int64_t> amount_minor;
};

/// Either a parsed value or the reason it was rejected.
template <class T>
struct parsed {
  std::optional<T> value;
  std::string error;
};

/// True for 1..255 printable ASCII characters without spaces.
bool valid_idempotency_key(std::string_view key);

/// Parses and validates a charge body; never echoes card data in `error`.
parsed<charge_request> parse_charge_request(const std::string& body);

/// Parses and validates a refund body.
parsed<refund_request> parse_refund_request(const std::string& body);

/// True for a charge id of 1..255 printable characters without spaces (the
/// path segment of capture and void).
bool valid_charge_id(std::string_view id);

/// Parses a capture body; an empty body or `{}` captures everything.
parsed<capture_request> parse_capture_request(const std::string& body);

} // namespace psp::sim
