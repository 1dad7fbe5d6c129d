#pragma once

// Card PaymentMethods as the API shows them. We keep no PaymentMethod
// records: a test id (pm_card_visa) names a fixed card, and a typed card's
// PaymentMethod is its attempt (`pm_X` is the card of attempt `pa_X`),
// which keeps brand, last4 and expiry, never the number or the CVC.

#include "adapters/http/api_context.hpp"
#include "adapters/http/api_errors.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <variant>

namespace psp::http {

struct found_payment_method {
  nlohmann::json object;
  std::string intent_id; ///< the attempt's intent; "" for a test id
};

/// The PaymentMethod `id`; nullopt when there is none, an error when Redis
/// could not be read. Ownership is the caller's to check (intent_id).
std::variant<std::optional<found_payment_method>, api_error>
find_payment_method(api_context& ctx, const std::string& id);

/// `err` as it is, unless it is the "No such PaymentMethod" of a
/// `payment_method` param naming a card the merchant typed for an earlier
/// payment: that one exists but cannot pay again (its number is gone), and
/// the answer says so instead.
api_error explain_spent_card(api_context& ctx, const merchant_info& merchant,
                             const nlohmann::json& params, api_error err);

} // namespace psp::http
