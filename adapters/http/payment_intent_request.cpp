#include "adapters/http/payment_intent_request.hpp"

#include "actors/currency.hpp"
#include "adapters/http/billing_details.hpp"
#include "adapters/http/card_number_mask.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/http/text_checks.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string_view>

namespace psp::http {

namespace {

using json = nlohmann::json;

constexpr int64_t amount_minor_max = 99'999'999;

/// Stripe's test payment methods and the test card each stands for.
const std::map<std::string, std::string>& test_methods() {
  static const std::map<std::string, std::string> table{
    {"pm_card_visa", "4242424242424242"},
    {"pm_card_visa_debit", "4000056655665556"},
    {"pm_card_mastercard", "5555555555554444"},
    {"pm_card_amex", "378282246310005"},
    {"pm_card_discover", "6011111111111117"},
    {"pm_card_chargeDeclined", "4000000000000002"},
    {"pm_card_chargeDeclinedInsufficientFunds", "4000000000009995"},
    {"pm_card_chargeDeclinedExpiredCard", "4000000000000069"},
    {"pm_card_chargeDeclinedIncorrectCvc", "4000000000000127"},
    {"pm_card_chargeDeclinedProcessingError", "4000000000000119"},
    {"pm_card_chargeDeclinedLostCard", "4000000000009987"},
    {"pm_card_chargeDeclinedStolenCard", "4000000000009979"},
    {"pm_card_chargeDeclinedFraudulent", "4100000000000019"},
    {"pm_card_chargeCustomerFail", "4000000000000341"},
  };
  return table;
}

/// A card error as Stripe raises it for bad card details (402 card_error).
api_error card_param_error(const codec::card_error& e) {
  api_error out;
  out.status = 402;
  out.type = "card_error";
  out.code = e.code;
  out.message = e.message;
  // The card check reads month and year as one typed "exp"; the API has
  // them apart, so name the one the code is about.
  auto field = e.field == "exp" ? (e.code == "invalid_expiry_year" ? "exp_year"
                                                                   : "exp_month")
                                : e.field;
  out.param = "payment_method_data[card][" + field + "]";
  return out;
}

std::variant<std::optional<payment_method_choice>, api_error>
card_from_data(const json& pmd, int now_year, int now_month) {
  if (!pmd.is_object()) {
    return invalid_param("payment_method_data",
                         "Invalid object: payment_method_data must be a "
                         "hash with type=card.");
  }
  if (auto err = reject_unknown(pmd, {"type", "card", "billing_details"})) {
    err->param = "payment_method_data[" + err->param + "]";
    err->message = "Received unknown parameter: " + err->param;
    return *err;
  }
  if (!pmd.contains("type")) {
    return missing_param("payment_method_data[type]");
  }
  if (!pmd["type"].is_string() || pmd["type"].get<std::string>() != "card") {
    return invalid_param("payment_method_data[type]",
                         "Only payment_method_data[type]=card is supported.");
  }
  if (!pmd.contains("card") || !pmd["card"].is_object()) {
    return missing_param("payment_method_data[card]");
  }
  auto& card = pmd["card"];
  if (auto err = reject_unknown(card, {"number", "exp_month", "exp_year",
                                       "cvc"})) {
    err->param = "payment_method_data[card][" + err->param + "]";
    err->message = "Received unknown parameter: " + err->param;
    return *err;
  }
  auto text = [&](const char* key) {
    return card.contains(key) && card[key].is_string()
             ? card[key].get<std::string>()
             : std::string{};
  };
  for (auto* key : {"number", "exp_month", "exp_year"}) {
    if (text(key).empty()) {
      return missing_param(std::string{"payment_method_data[card]["} + key
                           + "]");
    }
  }
  // An absent CVC is allowed through the API, as at Stripe.
  codec::card_input typed{text("number"),
                          text("exp_month") + "/" + text("exp_year"),
                          text("cvc"), /*cvc_optional=*/true};
  auto checked = codec::check_card(typed, now_year, now_month);
  if (auto* errs = std::get_if<std::vector<codec::card_error>>(&checked)) {
    return card_param_error(errs->front());
  }
  std::string billing_details;
  if (pmd.contains("billing_details")) {
    auto parsed = parse_billing_details(pmd["billing_details"]);
    if (auto* err = std::get_if<api_error>(&parsed)) {
      return *err;
    }
    billing_details = std::move(std::get<std::string>(parsed));
  }
  return std::optional<payment_method_choice>{payment_method_choice{
    "", std::get<codec::card_fields>(checked), std::move(billing_details)}};
}

/// `automatic_payment_methods[enabled]` (required when the hash is given)
/// and `[allow_redirects]`: the allow_redirects kept ("always" unless
/// said), or "" when not enabled. Stripe takes it or payment_method_types,
/// not both.
std::variant<std::string, api_error>
automatic_payment_methods_param(const json& params) {
  const std::string name = "automatic_payment_methods";
  if (!params.contains(name)) {
    return std::string{};
  }
  auto& apm = params[name];
  if (!apm.is_object()) {
    return invalid_param(name, "Invalid object: automatic_payment_methods "
                               "takes [enabled] and [allow_redirects].");
  }
  for (auto& [key, value] : apm.items()) {
    if (key != "enabled" && key != "allow_redirects") {
      return unknown_param(name + "[" + key + "]");
    }
    if (!value.is_string()) {
      return invalid_param(name + "[" + key + "]",
                           "Invalid value: " + name + "[" + key
                             + "] must be a string.");
    }
  }
  if (!apm.contains("enabled")) {
    return missing_param(name + "[enabled]");
  }
  auto enabled = parse_bool(apm["enabled"].get<std::string>());
  if (!enabled) {
    return invalid_param(name + "[enabled]", "Invalid boolean: " + name
                                               + "[enabled] must be true or "
                                                 "false.");
  }
  auto redirects = apm.value("allow_redirects", std::string{"always"});
  if (redirects != "always" && redirects != "never") {
    return invalid_param(name + "[allow_redirects]",
                         "Invalid " + name + "[allow_redirects]: must be "
                           "one of always or never.");
  }
  if (*enabled && params.contains("payment_method_types")) {
    return invalid_param(name, "You may only specify one of these "
                               "parameters: automatic_payment_methods, "
                               "payment_method_types.");
  }
  return *enabled ? redirects : std::string{};
}

} // namespace

std::variant<std::string, api_error>
receipt_email_param(const json& params) {
  auto v = string_param(params, "receipt_email", "receipt_email");
  if (auto* err = std::get_if<api_error>(&v)) {
    return *err;
  }
  auto& email = std::get<std::string>(v);
  if (email.empty()) {
    return email;
  }
  // Only the shape: whether it reaches anyone is not ours to know, and no
  // receipt is mailed here.
  if (!looks_like_email(email)) {
    return invalid_param("receipt_email",
                         "Invalid email address: " + email.substr(0, 100));
  }
  if (contains_card_number(email)) {
    return card_number_in("receipt_email"); // stored and shown back
  }
  return email;
}

std::optional<bool> parse_bool(const std::string& text) {
  if (text == "true") {
    return true;
  }
  if (text == "false") {
    return false;
  }
  return std::nullopt;
}

std::optional<codec::card_fields> test_payment_method(const std::string& id,
                                                      int now_year) {
  auto i = test_methods().find(id);
  if (i == test_methods().end()) {
    return std::nullopt;
  }
  codec::card_fields card;
  card.pan = i->second;
  auto expiry = codec::test_card_expiry(now_year);
  card.exp_month = expiry.month;
  card.exp_year = expiry.year;
  card.brand = codec::detect_brand(card.pan);
  card.last4 = card.pan.substr(card.pan.size() - 4);
  return card;
}

std::variant<std::optional<payment_method_choice>, api_error>
parse_payment_method(const json& params, int now_year, int now_month) {
  bool has_pm = params.contains("payment_method");
  bool has_data = params.contains("payment_method_data");
  if (has_pm && has_data) {
    return invalid_param("payment_method_data",
                         "You cannot provide both payment_method and "
                         "payment_method_data.");
  }
  if (has_data) {
    return card_from_data(params["payment_method_data"], now_year, now_month);
  }
  if (!has_pm) {
    return std::optional<payment_method_choice>{};
  }
  auto id = string_param(params, "payment_method", "payment_method");
  if (auto* err = std::get_if<api_error>(&id)) {
    return *err;
  }
  auto& pm = std::get<std::string>(id);
  auto card = test_payment_method(pm, now_year);
  if (!card) {
    auto e = not_found("PaymentMethod", pm.substr(0, 64));
    e.status = 400;
    e.param = "payment_method";
    return e;
  }
  return std::optional<payment_method_choice>{
    payment_method_choice{pm, *card, ""}};
}

std::variant<payment_intent_request, api_error>
parse_payment_intent_request(const json& params, int now_year, int now_month) {
  if (auto err = reject_unknown(
        params, {"amount", "currency", "automatic_payment_methods",
                 "capture_method", "confirm", "description", "metadata",
                 "payment_method",
                 "payment_method_data", "payment_method_types",
                 "receipt_email", "return_url", "expand"})) {
    return *err;
  }
  payment_intent_request out;
  if (!params.contains("amount")) {
    return missing_param("amount");
  }
  auto amount_text = string_param(params, "amount", "amount");
  if (auto* err = std::get_if<api_error>(&amount_text)) {
    return *err;
  }
  auto amount = parse_count(std::get<std::string>(amount_text));
  if (!amount) {
    return invalid_integer("amount", "Invalid integer: amount must be an "
                                     "integer from 50 to 99999999 in the "
                                     "currency's minor unit.");
  }
  if (*amount > amount_minor_max) {
    return amount_too_large("amount", "Amount must be at most 99999999 in "
                                      "the currency's minor unit.");
  }
  if (*amount < charge_amount_minor_min) {
    auto e = invalid_param("amount", "Amount must be at least 50 in the "
                                     "currency's minor unit.");
    e.code = "amount_too_small";
    return e;
  }
  out.amount_minor = *amount;
  if (!params.contains("currency")) {
    return missing_param("currency");
  }
  auto currency = string_param(params, "currency", "currency");
  if (auto* err = std::get_if<api_error>(&currency)) {
    return *err;
  }
  out.currency = ascii_lower(std::get<std::string>(currency));
  if (out.currency.empty()) {
    return missing_param("currency"); // `currency=`, as an unset variable sends it
  }
  if (!is_supported_currency(out.currency)) {
    return invalid_param("currency",
                         "Invalid currency: "
                           + std::get<std::string>(currency).substr(0, 16)
                           + ". Use a supported ISO 4217 code.");
  }
  auto capture = string_param(params, "capture_method", "capture_method");
  if (auto* err = std::get_if<api_error>(&capture)) {
    return *err;
  }
  auto& cm = std::get<std::string>(capture);
  if (cm == "manual") {
    out.capture_method = "manual";
  } else if (!cm.empty() && cm != "automatic" && cm != "automatic_async") {
    return invalid_param("capture_method", "Invalid capture_method: must be "
                                           "one of automatic, "
                                           "automatic_async or manual.");
  }
  if (params.contains("confirm")) {
    auto text = string_param(params, "confirm", "confirm");
    if (auto* err = std::get_if<api_error>(&text)) {
      return *err;
    }
    auto b = parse_bool(std::get<std::string>(text));
    if (!b) {
      return invalid_param("confirm", "Invalid boolean: confirm must be true "
                                      "or false.");
    }
    out.confirm = *b;
  }
  if (auto err = reject_non_card_types(params)) {
    return *err;
  }
  auto apm = automatic_payment_methods_param(params);
  if (auto* err = std::get_if<api_error>(&apm)) {
    return *err;
  }
  out.automatic_payment_methods = std::get<std::string>(apm);
  auto description = string_param(params, "description", "description");
  if (auto* err = std::get_if<api_error>(&description)) {
    return *err;
  }
  out.description = std::get<std::string>(description).substr(0, 1000);
  auto email = receipt_email_param(params);
  if (auto* err = std::get_if<api_error>(&email)) {
    return *err;
  }
  out.receipt_email = std::get<std::string>(email);
  auto md = metadata_param(params);
  if (auto* err = std::get_if<api_error>(&md)) {
    return *err;
  }
  out.metadata_json = std::get<std::string>(md);
  auto pm = parse_payment_method(params, now_year, now_month);
  if (auto* err = std::get_if<api_error>(&pm)) {
    return *err;
  }
  out.payment_method = std::move(std::get<0>(pm));
  if (out.payment_method && params.contains("payment_method_data")
      && !out.confirm) {
    // A typed card is never stored; it goes straight into a sealed attempt.
    return invalid_param("payment_method_data",
                         "payment_method_data needs confirm=true: card "
                         "details are not stored on an unconfirmed intent.");
  }
  if (out.confirm && !out.payment_method) {
    auto e = unexpected_state("confirm", "requires_payment_method");
    e.message = "You cannot confirm this PaymentIntent because it's missing "
                "a payment method. Pass payment_method or "
                "payment_method_data.";
    e.param = "payment_method";
    return e;
  }
  return out;
}

} // namespace psp::http
