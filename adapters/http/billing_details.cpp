#include "adapters/http/billing_details.hpp"

#include "adapters/http/card_number_mask.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/http/text_checks.hpp"

#include <nlohmann/json.hpp>

namespace psp::http {

namespace {

using nlohmann::json;

const std::string prefix = "payment_method_data[billing_details]";

/// A string field of `object` checked and copied into `out` when set.
std::optional<api_error> copy_text(const json& object, const char* key,
                                   const std::string& param, json& out) {
  auto value = string_param(object, param, key);
  if (auto* err = std::get_if<api_error>(&value)) {
    return *err;
  }
  auto& text = std::get<std::string>(value);
  if (text.empty()) {
    return std::nullopt;
  }
  if (utf8_length(text) > billing_field_chars_max) {
    return invalid_param(param, "Invalid " + param + ": must be at most "
                                  + std::to_string(billing_field_chars_max)
                                  + " characters.");
  }
  if (!(key == std::string_view{"phone"} && is_international_phone(text))
      && contains_card_number(text)) {
    return card_number_in(param, key == std::string_view{"phone"}
                                   ? "(a phone number is taken as written "
                                     "with its country code: +49 ...)."
                                   : "");
  }
  out[key] = text;
  return std::nullopt;
}

/// An empty string where a hash goes unsets it, as in Stripe's API.
bool is_unset(const json& value) {
  return value.is_string() && value.get<std::string>().empty();
}

bool is_country_code(const std::string& text) {
  if (text.size() != 2) {
    return false;
  }
  for (char c : text) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
      return false;
    }
  }
  return true;
}

std::optional<api_error> parse_address(const json& value, json& out) {
  const std::string param = prefix + "[address]";
  if (!value.is_object()) {
    return invalid_param(param, "Invalid object: " + param
                                  + " must be a hash.");
  }
  if (auto err = reject_unknown(value, {"city", "country", "line1", "line2",
                                        "postal_code", "state"})) {
    err->param = param + "[" + err->param + "]";
    err->message = "Received unknown parameter: " + err->param;
    return err;
  }
  json address = json::object();
  for (auto* key : {"city", "country", "line1", "line2", "postal_code",
                    "state"}) {
    if (auto err = copy_text(value, key, param + "[" + key + "]", address)) {
      return err;
    }
  }
  if (address.contains("country")) {
    auto country = address["country"].get<std::string>();
    if (!is_country_code(country)) {
      return invalid_param(param + "[country]",
                           "Invalid " + param + "[country]: a two-letter "
                           "ISO 3166-1 country code, such as US.");
    }
    for (auto& c : country) {
      c = static_cast<char>(c >= 'a' ? c - 'a' + 'A' : c);
    }
    address["country"] = country;
  }
  if (!address.empty()) {
    out["address"] = std::move(address);
  }
  return std::nullopt;
}

} // namespace

std::variant<std::string, api_error>
parse_billing_details(const json& value) {
  if (is_unset(value)) {
    return std::string{};
  }
  if (!value.is_object()) {
    return invalid_param(prefix, "Invalid object: " + prefix
                                   + " must be a hash.");
  }
  if (auto err = reject_unknown(value, {"address", "email", "name", "phone"})) {
    err->param = prefix + "[" + err->param + "]";
    err->message = "Received unknown parameter: " + err->param;
    return *err;
  }
  json out = json::object();
  for (auto* key : {"email", "name", "phone"}) {
    if (auto err = copy_text(value, key, prefix + "[" + key + "]", out)) {
      return *err;
    }
  }
  if (out.contains("email")
      && !looks_like_email(out["email"].get<std::string>())) {
    // Not echoed: only the shape is checked, and the details are personal.
    return invalid_param(prefix + "[email]", "Invalid email address.");
  }
  if (value.contains("address") && !is_unset(value["address"])) {
    if (auto err = parse_address(value["address"], out)) {
      return *err;
    }
  }
  return out.empty() ? std::string{} : out.dump();
}

} // namespace psp::http
