#pragma once

// Validation of payment intent parameters (create and confirm), separate
// from the handlers so it is tested without a server. Card numbers given in
// payment_method_data are checked here and leave only as a sealed blob; an
// error never echoes them.

#include "adapters/codec/card_check.hpp"
#include "adapters/http/api_errors.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace psp::http {

/// A usable card and the payment method id shown on the intent.
struct payment_method_choice {
  /// pm_card_visa and the like; "" for a typed card, whose PaymentMethod is
  /// named after the attempt that carries it (card_payment_method_id).
  std::string payment_method_id;
  codec::card_fields card;
  /// payment_method_data[billing_details] as compact JSON ("" when none;
  /// billing_details.hpp).
  std::string billing_details_json;
};

/// `payment_method` (a test id such as pm_card_visa or
/// pm_card_chargeDeclined) or `payment_method_data[type]=card` with
/// `[card][number|exp_month|exp_year|cvc]`; nullopt when neither is given.
std::variant<std::optional<payment_method_choice>, api_error>
parse_payment_method(const nlohmann::json& params, int now_year,
                     int now_month);

/// The card behind a test payment method id; nullopt when unknown.
std::optional<codec::card_fields> test_payment_method(const std::string& id,
                                                      int now_year);

struct payment_intent_request {
  int64_t amount_minor = 0;
  std::string currency;
  std::string capture_method = "automatic"; ///< automatic | manual
  bool confirm = false;
  std::string description;
  std::string receipt_email;
  std::string metadata_json = "{}";
  std::optional<payment_method_choice> payment_method;
  /// automatic_payment_methods[allow_redirects] ("always" | "never") when
  /// the store enabled them, as Stripe's guides do on every create; ""
  /// when not. Cards are this PSP's one method either way.
  std::string automatic_payment_methods;
};

/// POST /v1/payment_intents parameters, checked as Stripe does.
std::variant<payment_intent_request, api_error>
parse_payment_intent_request(const nlohmann::json& params, int now_year,
                             int now_month);

/// `receipt_email` ("" when absent): a string of at most 800 characters
/// that looks like an address (`local@domain`, no spaces), else a 400.
std::variant<std::string, api_error>
receipt_email_param(const nlohmann::json& params);

/// A Stripe boolean form value ("true"/"false"); nullopt when malformed.
std::optional<bool> parse_bool(const std::string& text);

} // namespace psp::http
