#include "adapters/http/checkout_request.hpp"

#include "actors/money.hpp"
#include "adapters/http/request_support.hpp"

#include <nlohmann/json.hpp>

namespace psp::http {

namespace {

using json = nlohmann::json;

bool is_url(const std::string& s) {
  return (s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0)
         && s.size() <= 2048;
}

bool is_currency(const std::string& s) {
  if (s.size() != 3) {
    return false;
  }
  for (char c : s) {
    if (c < 'a' || c > 'z') {
      return false;
    }
  }
  return true;
}

struct line_item {
  std::string name;
  int64_t unit_amount = 0;
  int64_t quantity = 0;
  std::string currency;
};

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
    err->param = at + "[" + err->param + "]";
    err->message = "Received unknown parameter: " + err->param;
    return *err;
  }
  if (!item.contains("price_data") || !item["price_data"].is_object()) {
    return missing_param(at + "[price_data]");
  }
  auto& pd = item["price_data"];
  if (auto err = reject_unknown(pd, {"currency", "unit_amount",
                                     "product_data"})) {
    err->param = at + "[price_data][" + err->param + "]";
    err->message = "Received unknown parameter: " + err->param;
    return *err;
  }
  line_item out;
  out.currency = pd.value("currency", "");
  if (!is_currency(out.currency)) {
    return invalid_param(at + "[price_data][currency]",
                         "Invalid currency: use a three-letter ISO code in "
                         "lower case.");
  }
  auto unit = parse_count(pd.value("unit_amount", ""));
  if (!unit || *unit > amount_minor_max) {
    return invalid_param(at + "[price_data][unit_amount]",
                         "Invalid integer: unit_amount must be a "
                         "non-negative integer in the currency's minor unit.");
  }
  out.unit_amount = *unit;
  if (!pd.contains("product_data") || !pd["product_data"].is_object()
      || pd["product_data"].value("name", "").empty()) {
    return missing_param(at + "[price_data][product_data][name]");
  }
  out.name = pd["product_data"].value("name", "");
  if (out.name.size() > 250) {
    return invalid_param(at + "[price_data][product_data][name]",
                         "Product names are at most 250 characters.");
  }
  if (!item.contains("quantity")) {
    return missing_param(at + "[quantity]");
  }
  auto qty = parse_count(item.value("quantity", ""));
  if (!qty || *qty < 1 || *qty > 999'999) {
    return invalid_param(at + "[quantity]",
                         "Quantity must be a positive integer.");
  }
  out.quantity = *qty;
  return out;
}

} // namespace

std::variant<checkout_request, api_error>
parse_checkout_request(const json& params, int64_t now_s,
                       int64_t default_ttl_s) {
  if (auto err = reject_unknown(
        params, {"mode", "line_items", "success_url", "cancel_url",
                 "metadata", "client_reference_id", "customer_email",
                 "expires_at", "payment_method_types", "expand"})) {
    return *err;
  }
  checkout_request out;
  auto mode = params.value("mode", "");
  if (mode.empty()) {
    return missing_param("mode");
  }
  if (mode != "payment") {
    return invalid_param("mode", "Only mode=payment is supported.");
  }
  out.success_url = params.value("success_url", "");
  if (out.success_url.empty()) {
    return missing_param("success_url");
  }
  if (!is_url(out.success_url)) {
    return invalid_param("success_url", "Not a valid URL.");
  }
  out.cancel_url = params.value("cancel_url", "");
  if (!out.cancel_url.empty() && !is_url(out.cancel_url)) {
    return invalid_param("cancel_url", "Not a valid URL.");
  }
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
    int64_t amount = li.unit_amount * li.quantity;
    out.amount_total_minor += amount;
    if (amount > amount_minor_max || out.amount_total_minor > amount_minor_max) {
      return invalid_param("line_items", "The total amount is above the "
                                         "maximum of 99999999.");
    }
    rendered.push_back({{"name", li.name},
                        {"unit_amount", li.unit_amount},
                        {"quantity", li.quantity},
                        {"amount_total", amount}});
  }
  if (out.amount_total_minor < 50) {
    return invalid_param("line_items", "The total amount must be at least 50 "
                                       "minor units.");
  }
  out.line_items_json = rendered.dump();
  for (auto key : {"client_reference_id", "customer_email"}) {
    if (params.contains(key) && !params[key].is_string()) {
      return invalid_param(key, std::string{"Invalid "} + key + ".");
    }
  }
  out.client_reference_id = params.value("client_reference_id", "");
  if (out.client_reference_id.size() > 200) {
    return invalid_param("client_reference_id", "At most 200 characters.");
  }
  out.customer_email = params.value("customer_email", "");
  if (!out.customer_email.empty()
      && out.customer_email.find('@') == std::string::npos) {
    return invalid_param("customer_email", "Invalid email address.");
  }
  auto md = metadata_param(params);
  if (auto* err = std::get_if<api_error>(&md)) {
    return *err;
  }
  out.metadata_json = std::get<std::string>(md);
  out.expires_at_s = now_s + default_ttl_s;
  if (params.contains("expires_at")) {
    auto at = parse_count(params.value("expires_at", ""));
    if (!at || *at < now_s + 1800 || *at > now_s + 24 * 3600) {
      return invalid_param("expires_at", "expires_at must be between 30 "
                                         "minutes and 24 hours from now.");
    }
    out.expires_at_s = *at;
  }
  return out;
}

} // namespace psp::http
