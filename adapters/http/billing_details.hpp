#pragma once

// `payment_method_data[billing_details]`: who pays, as a store sends it
// (name, email, phone, address). Kept on the typed card's PaymentMethod and
// shown on its Charge, as at Stripe. Not card data, but a form that puts the
// card number in the wrong box must not get it stored: a value holding
// something that reads as a card number is refused, unechoed.

#include "adapters/http/api_errors.hpp"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <variant>

namespace psp::http {

/// Longest value of one field, in characters (Stripe's usual string limit).
inline constexpr size_t billing_field_chars_max = 5000;

/// The details given as compact JSON of the fields that are set (empty
/// values unset, as in Stripe's API; a country upper-cased); "" when none
/// is. `value` is what the form decoded under `billing_details`.
std::variant<std::string, api_error>
parse_billing_details(const nlohmann::json& value);

} // namespace psp::http
