#pragma once

// The card behaviour table: which test card numbers succeed and which decline
// with which code (modelled on Stripe's published test cards).

#include <string>
#include <string_view>

namespace psp::sim {

/// The network's verdict on a card number.
struct card_verdict {
  /// Empty when the card is approved.
  std::string decline_code;
  /// Human-readable text for a decline; empty when approved.
  std::string message;

  bool approved() const { return decline_code.empty(); }
};

/// True when `digits` (ASCII digits only) passes the Luhn checksum.
bool luhn_valid(std::string_view digits);

/// "visa", "mastercard", "amex", "discover" or "unknown", from the prefix.
std::string card_brand(std::string_view digits);

/// The last four digits (or all of them when shorter).
std::string card_last4(std::string_view digits);

/// Decides the outcome of charging `digits`.
card_verdict classify_card(std::string_view digits);

} // namespace psp::sim
