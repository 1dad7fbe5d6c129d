#pragma once

// Validation of POST /v1/checkout/sessions parameters, separate from the
// handler so it is tested without a server.

#include "adapters/http/api_errors.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <variant>

namespace psp::http {

struct checkout_request {
  std::string currency;
  int64_t amount_total_minor = 0;
  std::string line_items_json;  ///< [{name, unit_amount, quantity, amount}]
  std::string success_url;
  std::string cancel_url;
  std::string client_reference_id;
  std::string customer_email;
  std::string metadata_json;
  int64_t expires_at_s = 0;
  std::string capture_method = "automatic"; ///< payment_intent_data[...]
};

/// Checks every parameter as Stripe does (mode=payment only; line_items with
/// price_data; amounts in minor units; expires_at 30 min to 24 h ahead).
std::variant<checkout_request, api_error>
parse_checkout_request(const nlohmann::json& params, int64_t now_s,
                       int64_t default_ttl_s);

} // namespace psp::http
