#include "request_parsing.hpp"

#include "test_cards.hpp"

#include <nlohmann/json.hpp>

namespace psp::sim {

namespace {

using json = nlohmann::json;

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

bool lowercase_letters(std::string_view s) {
  for (char c : s) {
    if (c < 'a' || c > 'z') {
      return false;
    }
  }
  return true;
}

// Reads an integer field within [lo, hi]; false when absent or out of range.
bool read_int(const json& obj, const char* name, int64_t lo, int64_t hi,
              int64_t& out) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_number_integer()) {
    return false;
  }
  // Large unsigned values would wrap when read as signed.
  if (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(hi)) {
    return false;
  }
  out = it->get<int64_t>();
  return out >= lo && out <= hi;
}

// Reads a string field of 1..len_max characters.
bool read_text(const json& obj, const char* name, size_t len_max,
               std::string& out) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_string()) {
    return false;
  }
  out = it->get<std::string>();
  return !out.empty() && out.size() <= len_max;
}

std::optional<json> parse_object(const std::string& body) {
  auto doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return std::nullopt;
  }
  return doc;
}

// Checks the card fields; the message names the field, never its value.
std::string check_card(const json& doc, charge_request& req) {
  if (!read_text(doc, "card_number", 19, req.card_number) ||
      req.card_number.size() < 12 || !all_digits(req.card_number)) {
    return "card_number must be a string of 12 to 19 digits";
  }
  int64_t month = 0;
  int64_t year = 0;
  if (!read_int(doc, "exp_month", 1, 12, month)) {
    return "exp_month must be an integer from 1 to 12";
  }
  if (!read_int(doc, "exp_year", 2000, 2100, year)) {
    return "exp_year must be a four-digit year";
  }
  req.exp_month = static_cast<int>(month);
  req.exp_year = static_cast<int>(year);
  // The CVC is optional, as for a stored card: a PSP that never stores it
  // cannot send it from an asynchronous worker.
  if (doc.contains("cvc") && (!read_text(doc, "cvc", 4, req.cvc) ||
                              req.cvc.size() < 3 || !all_digits(req.cvc))) {
    return "cvc must be a string of 3 or 4 digits";
  }
  return {};
}

std::string check_charge(const json& doc, charge_request& req) {
  if (!read_int(doc, "amount", 1, amount_minor_max, req.amount_minor)) {
    return "amount must be a positive integer of minor units (max 99999999)";
  }
  if (!read_text(doc, "currency", 3, req.currency) ||
      req.currency.size() != 3 || !lowercase_letters(req.currency)) {
    return "currency must be three lowercase letters";
  }
  if (!read_text(doc, "reference", text_field_length_max, req.reference)) {
    return "reference must be a string of 1 to 255 characters";
  }
  if (doc.contains("merchant") &&
      !read_text(doc, "merchant", text_field_length_max, req.merchant)) {
    return "merchant must be a string of 1 to 255 characters";
  }
  if (auto it = doc.find("capture"); it != doc.end()) {
    if (!it->is_boolean()) {
      return "capture must be true or false";
    }
    req.capture = it->get<bool>();
  }
  return check_card(doc, req);
}

// Ids and keys share one shape: what fits in a header or a path segment.
bool printable_token(std::string_view key) {
  if (key.empty() || key.size() > text_field_length_max) {
    return false;
  }
  for (char c : key) {
    if (c <= ' ' || c > '~') {
      return false;
    }
  }
  return true;
}

} // namespace

bool valid_idempotency_key(std::string_view key) {
  return printable_token(key);
}

bool valid_charge_id(std::string_view id) {
  return printable_token(id);
}

std::string card_fingerprint(const charge_request& req) {
  auto& pan = req.card_number;
  auto last4 = pan.size() >= 4 ? pan.substr(pan.size() - 4) : pan;
  return card_brand(pan) + " " + last4 + " " + std::to_string(req.exp_month)
         + "/" + std::to_string(req.exp_year);
}

parsed<charge_request> parse_charge_request(const std::string& body) {
  auto doc = parse_object(body);
  if (!doc) {
    return {std::nullopt, "body must be a JSON object"};
  }
  charge_request req;
  auto error = check_charge(*doc, req);
  if (!error.empty()) {
    return {std::nullopt, error};
  }
  return {std::move(req), {}};
}

parsed<refund_request> parse_refund_request(const std::string& body) {
  auto doc = parse_object(body);
  if (!doc) {
    return {std::nullopt, "body must be a JSON object"};
  }
  refund_request req;
  if (!read_text(*doc, "charge", text_field_length_max, req.charge_id)) {
    return {std::nullopt, "charge must be a charge id string"};
  }
  if (!read_int(*doc, "amount", 1, amount_minor_max, req.amount_minor)) {
    return {std::nullopt,
            "amount must be a positive integer of minor units (max 99999999)"};
  }
  return {std::move(req), {}};
}

parsed<capture_request> parse_capture_request(const std::string& body) {
  capture_request req;
  // Stripe's capture takes no required parameter, so no body is fine.
  if (body.empty()) {
    return {req, {}};
  }
  auto doc = parse_object(body);
  if (!doc) {
    return {std::nullopt, "body must be empty or a JSON object"};
  }
  if (doc->contains("amount")) {
    int64_t amount = 0;
    if (!read_int(*doc, "amount", 1, amount_minor_max, amount)) {
      return {std::nullopt, "amount must be a positive integer of minor "
                            "units (max 99999999)"};
    }
    req.amount_minor = amount;
  }
  return {req, {}};
}

} // namespace psp::sim
