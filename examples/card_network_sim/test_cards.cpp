#include "test_cards.hpp"

#include <array>

namespace psp::sim {

namespace {

struct special_card {
  std::string_view number;
  std::string_view decline_code;
  std::string_view message;
};

// Cards whose outcome is fixed; every other Luhn-valid number succeeds.
constexpr std::array<special_card, 11> special_cards{{
    {"4242424242424242", "", ""},
    {"5555555555554444", "", ""},
    {"4000000000000002", "card_declined", "Your card was declined."},
    {"4000000000009995", "insufficient_funds",
     "Your card has insufficient funds."},
    {"4000000000000069", "expired_card", "Your card has expired."},
    {"4000000000000127", "incorrect_cvc",
     "Your card's security code is incorrect."},
    {"4000000000000119", "processing_error",
     "An error occurred while processing your card. Try again later."},
    {"4000000000009987", "lost_card", "Your card was declined."},
    {"4000000000009979", "stolen_card", "Your card was declined."},
    {"4100000000000019", "fraudulent", "Your card was declined."},
    // Stripe: attaching it to a customer succeeds, charging it fails.
    {"4000000000000341", "card_declined", "Your card was declined."},
}};

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

int prefix_number(std::string_view digits, size_t len) {
  if (digits.size() < len) {
    return -1;
  }
  int value = 0;
  for (size_t i = 0; i < len; ++i) {
    value = value * 10 + (digits[i] - '0');
  }
  return value;
}

} // namespace

bool luhn_valid(std::string_view digits) {
  if (digits.empty()) {
    return false;
  }
  int sum = 0;
  bool doubled = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (doubled) {
      d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    }
    sum += d;
    doubled = !doubled;
  }
  return sum % 10 == 0;
}

std::string card_brand(std::string_view digits) {
  if (starts_with(digits, "4")) {
    return "visa";
  }
  auto two = prefix_number(digits, 2);
  auto four = prefix_number(digits, 4);
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) {
    return "mastercard";
  }
  if (two == 34 || two == 37) {
    return "amex";
  }
  if (four == 6011 || two == 65) {
    return "discover";
  }
  return "unknown";
}

std::string card_last4(std::string_view digits) {
  auto n = digits.size() < 4 ? digits.size() : 4;
  return std::string{digits.substr(digits.size() - n)};
}

card_verdict classify_card(std::string_view digits) {
  for (const auto& card : special_cards) {
    if (card.number == digits) {
      return {std::string{card.decline_code}, std::string{card.message}};
    }
  }
  if (!luhn_valid(digits)) {
    return {"incorrect_number", "Your card number is incorrect."};
  }
  return {};
}

} // namespace psp::sim
