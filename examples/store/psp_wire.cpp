#include "psp_wire.hpp"

#include <nlohmann/json.hpp>

namespace store {

namespace {

using json = nlohmann::json;

std::string string_at(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) {
    return {};
  }
  return it->get<std::string>();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::string form_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 +
                                      hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

} // namespace

std::string form_encode(std::string_view text, bool keep_brackets) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                      c == '_' || c == '~';
    if (unreserved || (keep_brackets && (c == '[' || c == ']'))) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0x0f]);
    }
  }
  return out;
}

std::string encode_form(const form_fields& fields) {
  std::string out;
  for (const auto& [key, value] : fields) {
    if (!out.empty()) {
      out.push_back('&');
    }
    out += form_encode(key, true);
    out.push_back('=');
    out += form_encode(value);
  }
  return out;
}

form_fields decode_form(std::string_view body, size_t fields_max) {
  form_fields out;
  while (!body.empty() && out.size() < fields_max) {
    auto amp = body.find('&');
    auto pair = body.substr(0, amp);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      auto key = pair.substr(0, eq);
      auto value = eq == std::string_view::npos ? std::string_view{}
                                                : pair.substr(eq + 1);
      out.emplace_back(form_decode(key), form_decode(value));
    }
    if (amp == std::string_view::npos) {
      break;
    }
    body.remove_prefix(amp + 1);
  }
  return out;
}

std::string form_value(const form_fields& fields, std::string_view key) {
  for (const auto& [k, v] : fields) {
    if (k == key) {
      return v;
    }
  }
  return {};
}

form_fields checkout_form(const checkout_request& req) {
  const std::string item = "line_items[0]";
  return {
      {"mode", "payment"},
      // The PSP fills in {CHECKOUT_SESSION_ID}; it travels encoded like any
      // other text and the PSP sees the braces after decoding.
      {"success_url",
       req.public_url + "/success?session_id={CHECKOUT_SESSION_ID}"},
      {"cancel_url", req.public_url + "/orders/" + req.order_id},
      {"client_reference_id", req.order_id},
      {"metadata[order_id]", req.order_id},
      {item + "[price_data][currency]", req.currency},
      {item + "[price_data][product_data][name]", req.product_name},
      {item + "[price_data][unit_amount]",
       std::to_string(req.unit_amount_minor)},
      {item + "[quantity]", std::to_string(req.quantity)},
  };
}

form_fields webhook_endpoint_form(std::string_view public_url) {
  return {
      {"url", std::string(public_url) + "/webhook"},
      {"enabled_events[0]", "*"},
      {"description", std::string{store_endpoint_description}},
  };
}

std::optional<checkout_session> parse_checkout_session(std::string_view body) {
  auto doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return std::nullopt;
  }
  checkout_session s;
  s.id = string_at(doc, "id");
  if (s.id.empty()) {
    return std::nullopt;
  }
  s.url = string_at(doc, "url");
  s.status = string_at(doc, "status");
  s.payment_status = string_at(doc, "payment_status");
  s.client_reference_id = string_at(doc, "client_reference_id");
  s.currency = string_at(doc, "currency");
  if (auto it = doc.find("payment_intent"); it != doc.end()) {
    s.payment_intent = it->is_object() ? string_at(*it, "id")
                                       : string_at(doc, "payment_intent");
  }
  if (auto it = doc.find("amount_total");
      it != doc.end() && it->is_number_integer()) {
    s.amount_total = it->get<int64_t>();
  }
  return s;
}

std::optional<webhook_endpoint> parse_webhook_endpoint(std::string_view body) {
  auto doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return std::nullopt;
  }
  webhook_endpoint ep{string_at(doc, "id"), string_at(doc, "secret")};
  if (ep.id.empty() || ep.secret.empty()) {
    return std::nullopt;
  }
  return ep;
}

psp_error parse_psp_error(int status, std::string_view body) {
  psp_error err;
  err.status = status;
  auto doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (!doc.is_discarded() && doc.is_object()) {
    if (auto it = doc.find("error"); it != doc.end() && it->is_object()) {
      err.type = string_at(*it, "type");
      err.code = string_at(*it, "code");
      err.message = string_at(*it, "message");
    }
  }
  if (err.message.empty()) {
    err.message = "the PSP answered HTTP " + std::to_string(status);
  }
  return err;
}

} // namespace store
