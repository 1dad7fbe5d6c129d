#include "webhook_event.hpp"

#include <nlohmann/json.hpp>

namespace store {

namespace {

using json = nlohmann::json;

// Reads a string member, or "" when absent or of another type: the PSP may
// add or null out fields and the store must not throw on that.
std::string string_at(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) {
    return {};
  }
  return it->get<std::string>();
}

// A reference such as `payment_intent` is an id, or an expanded object.
std::string id_at(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it != obj.end() && it->is_object()) {
    return string_at(*it, "id");
  }
  return string_at(obj, key);
}

const json* object_at(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_object()) {
    return nullptr;
  }
  return &*it;
}

} // namespace

std::optional<webhook_event> parse_webhook_event(std::string_view body) {
  auto doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return std::nullopt;
  }
  webhook_event ev;
  ev.id = string_at(doc, "id");
  ev.type = string_at(doc, "type");
  auto* data = object_at(doc, "data");
  auto* obj = data != nullptr ? object_at(*data, "object") : nullptr;
  if (ev.id.empty() || ev.type.empty() || obj == nullptr) {
    return std::nullopt;
  }
  if (auto it = doc.find("created"); it != doc.end() && it->is_number()) {
    ev.created_unix_s = it->get<int64_t>();
  }
  ev.object_type = string_at(*obj, "object");
  ev.object_id = string_at(*obj, "id");
  ev.order_id = string_at(*obj, "client_reference_id");
  if (ev.order_id.empty()) {
    if (auto* meta = object_at(*obj, "metadata")) {
      ev.order_id = string_at(*meta, "order_id");
    }
  }
  if (ev.object_type == "payment_intent" ||
      ev.type.rfind("payment_intent.", 0) == 0) {
    ev.payment_intent = ev.object_id;
  } else {
    ev.payment_intent = id_at(*obj, "payment_intent");
  }
  ev.payment_status = string_at(*obj, "payment_status");
  if (auto* err = object_at(*obj, "last_payment_error")) {
    ev.failure_message = string_at(*err, "message");
  }
  return ev;
}

} // namespace store
