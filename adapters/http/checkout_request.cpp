#include "adapters/http/checkout_request.hpp"

#include "actors/currency.hpp"
#include "actors/money.hpp"
#include "adapters/http/card_number_mask.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/http/text_checks.hpp"

#include <nlohmann/json.hpp>

namespace psp::http {

namespace {

using json = nlohmann::json;

/// Longest currency value echoed back in an error message, in bytes.
constexpr size_t echoed_currency_max = 16;

/// Bounds of expires_at relative to now (Stripe's: 30 minutes to 24 hours).
constexpr int64_t expires_in_s_min = 1800;
constexpr int64_t expires_in_s_max = 24 * 3600;

/// Largest quantity of one line item (Stripe's limit).
constexpr int64_t quantity_max = 999'999;

/// `text` cut to at most `max` bytes without splitting a UTF-8 sequence, so
/// the error message still serialises as JSON.
std::string shorten(const std::string& text, size_t max) {
  if (text.size() <= max) {
    return text;
  }
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return text.substr(0, end) + "...";
}

/// Stripe's wording, with our (shorter) list: usd first, then the others in
/// alphabetical order, as Stripe prints it.
std::string invalid_currency_message(const std::string& code) {
  std::string list = "usd";
  for (auto c : supported_currencies()) {
    if (c != "usd") {
      list += ", ";
      list += c;
    }
  }
  return "Invalid currency: " + shorten(code, echoed_currency_max)
         + ". This PSP currently supports these currencies: " + list + ".";
}

api_error nested(api_error err, const std::string& prefix) {
  err.param = prefix + "[" + err.param + "]";
  if (err.code == "parameter_unknown") {
    err.message = "Received unknown parameter: " + err.param;
  }
  return err;
}

struct line_item {
  std::string name;
  int64_t unit_amount = 0;
  int64_t quantity = 0;
  std::string currency;
};

/// Checks `line_items[i][price_data]` into `out` (currency, amount, name).
std::optional<api_error> parse_price_data(const json& pd,
                                          const std::string& at,
                                          line_item& out) {
  if (auto err = reject_unknown(pd, {"currency", "unit_amount",
                                     "product_data"})) {
    return nested(*err, at);
  }
  if (!pd.contains("currency")) {
    return missing_param(at + "[currency]");
  }
  auto currency = string_param(pd, at + "[currency]", "currency");
  if (auto* err = std::get_if<api_error>(&currency)) {
    return *err;
  }
  out.currency = ascii_lower(std::get<std::string>(currency));
  if (!is_supported_currency(out.currency)) {
    return invalid_param(at + "[currency]",
                         invalid_currency_message(
                           std::get<std::string>(currency)));
  }
  if (!pd.contains("unit_amount")) {
    return missing_param(at + "[unit_amount]");
  }
  auto unit_text = string_param(pd, at + "[unit_amount]", "unit_amount");
  auto unit = std::holds_alternative<std::string>(unit_text)
                ? parse_count(std::get<std::string>(unit_text))
                : std::nullopt;
  if (!unit) {
    return invalid_integer(at + "[unit_amount]",
                           "Invalid integer: unit_amount must be an integer "
                           "from 0 to 99999999 in the currency's minor "
                           "unit.");
  }
  if (*unit > amount_minor_max) {
    return amount_too_large(at + "[unit_amount]",
                            "unit_amount must be at most 99999999 in the "
                            "currency's minor unit.");
  }
  out.unit_amount = *unit;
  const std::string name_param = at + "[product_data][name]";
  if (!pd.contains("product_data") || !pd["product_data"].is_object()) {
    return missing_param(name_param);
  }
  auto name = string_param(pd["product_data"], name_param, "name");
  if (auto* err = std::get_if<api_error>(&name)) {
    return *err;
  }
  out.name = std::get<std::string>(name);
  if (out.name.empty()) {
    return missing_param(name_param);
  }
  if (utf8_length(out.name) > 250) {
    return invalid_param(name_param,
                         "Product names are at most 250 characters.");
  }
  if (has_control_or_direction_override(out.name)) {
    // Shown to the shopper next to the amount they pay.
    return invalid_param(name_param,
                         "Product names cannot hold control characters or "
                         "text-direction overrides.");
  }
  return std::nullopt;
}

std::variant<line_item, api_error> parse_line_item(const json& item,
                                                   size_t index) {
  auto at = "line_items[" + std::to_string(index) + "]";
  if (!item.is_object()) {
    return invalid_param(at, "Invalid line item.");
  }
  if (item.contains("price")) {
    return invalid_param(at + "[price]", "Prices are not supported yet: use "
                                         "price_data.");
  }
  if (auto err = reject_unknown(item, {"price_data", "quantity"})) {
    return nested(*err, at);
  }
  if (!item.contains("price_data")) {
    return missing_param(at + "[price_data]");
  }
  if (!item["price_data"].is_object()) {
    return invalid_param(at + "[price_data]",
                         "Invalid price_data: expected a hash.");
  }
  line_item out;
  if (auto err = parse_price_data(item["price_data"], at + "[price_data]",
                                  out)) {
    return *err;
  }
  if (!item.contains("quantity")) {
    return missing_param(at + "[quantity]");
  }
  auto qty_text = string_param(item, at + "[quantity]", "quantity");
  auto qty = std::holds_alternative<std::string>(qty_text)
               ? parse_count(std::get<std::string>(qty_text))
               : std::nullopt;
  if (!qty || *qty < 1 || *qty > quantity_max) {
    return invalid_param(at + "[quantity]",
                         "Quantity must be an integer from 1 to "
                           + std::to_string(quantity_max) + ".");
  }
  out.quantity = *qty;
  return out;
}

/// line_items: one currency, a total within [minimum, maximum].
std::optional<api_error> parse_line_items(const json& params,
                                          checkout_request& out) {
  if (!params.contains("line_items")) {
    return missing_param("line_items");
  }
  auto& items = params["line_items"];
  if (!items.is_array() || items.empty() || items.size() > 100) {
    return invalid_param("line_items", "line_items must be a list of 1 to "
                                       "100 items.");
  }
  auto rendered = json::array();
  for (size_t i = 0; i < items.size(); ++i) {
    auto parsed = parse_line_item(items[i], i);
    if (auto* err = std::get_if<api_error>(&parsed)) {
      return *err;
    }
    auto& li = std::get<line_item>(parsed);
    if (out.currency.empty()) {
      out.currency = li.currency;
    } else if (li.currency != out.currency) {
      return invalid_param("line_items[" + std::to_string(i)
                             + "][price_data][currency]",
                           "All line items must use the same currency.");
    }
    // Both factors are bounded (8 and 6 digits): the product fits.
    int64_t amount = li.unit_amount * li.quantity;
    out.amount_total_minor += amount;
    if (amount > amount_minor_max
        || out.amount_total_minor > amount_minor_max) {
      return amount_too_large("line_items", "The total amount is above the "
                                            "maximum of 99999999.");
    }
    rendered.push_back({{"name", li.name},
                        {"unit_amount", li.unit_amount},
                        {"quantity", li.quantity},
                        {"amount_total", amount}});
  }
  // One minimum for every currency: see charge_amount_minor_min.
  if (out.amount_total_minor < charge_amount_minor_min) {
    auto e = invalid_param("line_items", "The total amount must be at least "
                                         "50 minor units.");
    e.code = "amount_too_small"; // as a PaymentIntent's amount
    return e;
  }
  out.line_items_json = rendered.dump();
  return std::nullopt;
}

/// An optional URL parameter ("" when absent).
std::variant<std::string, api_error> url_param(const json& params,
                                               const char* key) {
  auto url = string_param(params, key, key);
  if (auto* text = std::get_if<std::string>(&url)) {
    if (!text->empty() && !is_http_url(*text)) {
      return invalid_param(key, "Not a valid URL.");
    }
  }
  return url;
}

/// mode, success_url and cancel_url.
std::optional<api_error> parse_mode_and_urls(const json& params,
                                             checkout_request& out) {
  auto mode = string_param(params, "mode", "mode");
  if (auto* err = std::get_if<api_error>(&mode)) {
    return *err;
  }
  if (std::get<std::string>(mode).empty()) {
    return missing_param("mode");
  }
  if (std::get<std::string>(mode) != "payment") {
    return invalid_param("mode", "Only mode=payment is supported.");
  }
  auto success = url_param(params, "success_url");
  if (auto* err = std::get_if<api_error>(&success)) {
    return *err;
  }
  out.success_url = std::get<std::string>(success);
  if (out.success_url.empty()) {
    return missing_param("success_url");
  }
  auto cancel = url_param(params, "cancel_url");
  if (auto* err = std::get_if<api_error>(&cancel)) {
    return *err;
  }
  out.cancel_url = std::get<std::string>(cancel);
  return std::nullopt;
}

/// client_reference_id, customer_email, metadata and expires_at.
std::optional<api_error> parse_extras(const json& params, int64_t now_s,
                                      int64_t default_ttl_s,
                                      checkout_request& out) {
  if (auto err = reject_non_strings(params, {"client_reference_id",
                                             "customer_email"})) {
    return err;
  }
  out.client_reference_id = params.value("client_reference_id", "");
  if (utf8_length(out.client_reference_id) > 200) {
    return invalid_param("client_reference_id", "At most 200 characters.");
  }
  out.customer_email = params.value("customer_email", "");
  if (!out.customer_email.empty() && !looks_like_email(out.customer_email)) {
    return invalid_param("customer_email",
                         "Invalid email address: "
                           + shorten(out.customer_email, 100));
  }
  if (contains_card_number(out.customer_email)) {
    return card_number_in("customer_email"); // stored and shown back
  }
  auto md = metadata_param(params);
  if (auto* err = std::get_if<api_error>(&md)) {
    return *err;
  }
  out.metadata_json = std::get<std::string>(md);
  out.expires_at_s = now_s + default_ttl_s;
  if (params.contains("expires_at")) {
    auto text = string_param(params, "expires_at", "expires_at");
    auto at = std::holds_alternative<std::string>(text)
                ? parse_count(std::get<std::string>(text))
                : std::nullopt;
    if (!at || *at < now_s + expires_in_s_min
        || *at > now_s + expires_in_s_max) {
      return invalid_param("expires_at", "expires_at must be between 30 "
                                         "minutes and 24 hours from now.");
    }
    out.expires_at_s = *at;
  }
  return std::nullopt;
}

} // namespace

std::variant<checkout_request, api_error>
parse_checkout_request(const json& params, int64_t now_s,
                       int64_t default_ttl_s) {
  if (!params.is_object()) {
    return invalid_param("", "Invalid request: expected parameters.");
  }
  if (auto err = reject_unknown(
        params, {"mode", "line_items", "success_url", "cancel_url",
                 "metadata", "client_reference_id", "customer_email",
                 "expires_at", "payment_method_types", "expand",
                 "payment_intent_data"})) {
    return *err;
  }
  if (auto err = reject_non_card_types(params)) {
    return *err;
  }
  checkout_request out;
  if (auto err = parse_mode_and_urls(params, out)) {
    return *err;
  }
  if (auto err = parse_line_items(params, out)) {
    return *err;
  }
  if (auto err = parse_extras(params, now_s, default_ttl_s, out)) {
    return *err;
  }
  if (params.contains("payment_intent_data")) {
    auto& pid = params["payment_intent_data"];
    if (!pid.is_object()) {
      return invalid_param("payment_intent_data",
                           "Invalid object: payment_intent_data.");
    }
    if (auto err = reject_unknown(pid, {"capture_method"})) {
      err->param = "payment_intent_data[" + err->param + "]";
      err->message = "Received unknown parameter: " + err->param;
      return *err;
    }
    auto cm = string_param(pid, "payment_intent_data[capture_method]",
                           "capture_method");
    if (auto* err = std::get_if<api_error>(&cm)) {
      return *err;
    }
    auto& method = std::get<std::string>(cm);
    if (method == "manual") {
      out.capture_method = "manual";
    } else if (!method.empty() && method != "automatic"
               && method != "automatic_async") {
      return invalid_param("payment_intent_data[capture_method]",
                           "Invalid capture_method: must be one of "
                           "automatic, automatic_async or manual.");
    }
  }
  return out;
}

} // namespace psp::http
