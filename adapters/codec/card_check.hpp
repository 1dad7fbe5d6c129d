#pragma once

// Validation of card data typed by a shopper, before it reaches a network.

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace psp::codec {

enum class card_brand {
  visa,
  mastercard,
  amex,
  discover,
  diners,
  jcb,
  unionpay,
  unknown
};

/// "visa", "mastercard", "amex", "discover", "diners", "jcb", "unionpay",
/// "unknown" (the spellings of Stripe's `card.brand`).
std::string_view to_string(card_brand b);

/// The digits of `s` (ASCII or full-width) without spaces (also Unicode
/// ones: no-break, U+2000..U+200B, narrow no-break, ideographic, the byte
/// order mark), tabs and dashes (also full-width); "" if anything else is
/// not a digit.
std::string digits_only(std::string_view s);

/// Luhn checksum of a non-empty string of digits; false for anything else.
bool luhn_valid(std::string_view digits);

/// The expiry of Stripe's test PaymentMethods (pm_card_visa, ...): December,
/// three years after `year` (the year they are used in), wherever they show.
struct card_expiry {
  int month = 0;
  int year = 0;
};
card_expiry test_card_expiry(int year);

/// Brand from the issuer prefix of a digit string; unknown if none matches.
card_brand detect_brand(std::string_view digits);

/// What the shopper typed, unchecked.
struct card_input {
  std::string number;
  /// "MM/YY", "MM / YYYY", "MMYY" (also "M/YY", "MMYYYY").
  std::string exp;
  std::string cvc;
  /// An empty CVC passes (the API, as at Stripe); the hosted page asks for
  /// one. A CVC that is given is always checked against the brand.
  bool cvc_optional = false;
};

/// Checked card data.
struct card_fields {
  /// Digits only.
  std::string pan;
  int exp_month = 0;
  /// Four digits.
  int exp_year = 0;
  std::string cvc;
  card_brand brand = card_brand::unknown;
  std::string last4;
};

/// One problem with one field.
struct card_error {
  /// "number", "exp" or "cvc".
  std::string field;
  /// Stripe's code: "invalid_number", "incorrect_number" (fails the Luhn
  /// check), "invalid_expiry_month", "invalid_expiry_year" or "invalid_cvc".
  std::string code;
  /// Text for the shopper; never contains the card number.
  std::string message;
};

/// How far ahead an expiry date may be.
constexpr int card_expiry_years_ahead_max = 20;

/// Validates; `now_year` (four digits) and `now_month` (1-12) are passed in
/// so tests are deterministic. On failure returns one error per bad field,
/// all fields at once, in the order number, exp, cvc.
std::variant<card_fields, std::vector<card_error>>
check_card(const card_input& in, int now_year, int now_month);

} // namespace psp::codec
