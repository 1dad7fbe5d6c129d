#include "order_record.hpp"

#include <nlohmann/json.hpp>

namespace store {

namespace {

using json = nlohmann::json;

// Names on the line; changing one makes older journals unreadable.
constexpr const char* created_name = "order_created";
constexpr const char* session_name = "session_attached";
constexpr const char* event_name = "event_applied";

// Thrown by the field readers below, caught in decode_change.
struct bad_line {
  std::string why;
};

std::string text(const json& line, const char* key) {
  auto it = line.find(key);
  if (it == line.end() || !it->is_string()) {
    throw bad_line{std::string("no string '") + key + "'"};
  }
  return it->get<std::string>();
}

int64_t integer(const json& line, const char* key) {
  auto it = line.find(key);
  if (it == line.end() || !it->is_number_integer()) {
    throw bad_line{std::string("no integer '") + key + "'"};
  }
  return it->get<int64_t>();
}

order_status status(const json& line) {
  auto name = text(line, "status");
  if (name == to_string(order_status::pending)) {
    return order_status::pending;
  }
  if (name == to_string(order_status::paid)) {
    return order_status::paid;
  }
  if (name == to_string(order_status::expired)) {
    return order_status::expired;
  }
  throw bad_line{"unknown status '" + name + "'"};
}

json created_json(const order& o) {
  return {{"change", created_name},
          {"order_id", o.id},
          {"idempotency_key", o.idempotency_key},
          {"product_id", o.product_id},
          {"product_name", o.product_name},
          {"quantity", o.quantity},
          {"amount_minor", o.amount_minor},
          {"currency", o.currency},
          {"status", to_string(o.status)},
          {"created_unix_s", o.created_unix_s}};
}

json session_json(const order& o) {
  return {{"change", session_name},
          {"order_id", o.id},
          {"session_id", o.session_id},
          {"payment_intent", o.payment_intent},
          {"checkout_url", o.checkout_url}};
}

json event_json(const order_change& c) {
  json line{{"change", event_name},
            {"event_id", c.event.id},
            {"event_type", c.event.type},
            {"order_id", c.event.order_id},
            {"received_unix_s", c.event.received_unix_s}};
  if (!c.event.order_id.empty()) {
    line["status"] = to_string(c.subject.status);
    line["session_id"] = c.subject.session_id;
    line["payment_intent"] = c.subject.payment_intent;
    line["last_failure_message"] = c.subject.last_failure_message;
  }
  return line;
}

order_change decode_object(const json& line) {
  order_change c;
  auto kind = text(line, "change");
  auto& o = c.subject;
  if (kind == created_name) {
    c.kind = change_kind::order_created;
    o.id = text(line, "order_id");
    o.idempotency_key = text(line, "idempotency_key");
    o.product_id = text(line, "product_id");
    o.product_name = text(line, "product_name");
    o.quantity = integer(line, "quantity");
    o.amount_minor = integer(line, "amount_minor");
    o.currency = text(line, "currency");
    o.status = status(line);
    o.created_unix_s = integer(line, "created_unix_s");
  } else if (kind == session_name) {
    c.kind = change_kind::session_attached;
    o.id = text(line, "order_id");
    o.session_id = text(line, "session_id");
    o.payment_intent = text(line, "payment_intent");
    o.checkout_url = text(line, "checkout_url");
  } else if (kind == event_name) {
    c.kind = change_kind::event_applied;
    c.event.id = text(line, "event_id");
    c.event.type = text(line, "event_type");
    c.event.order_id = text(line, "order_id");
    c.event.received_unix_s = integer(line, "received_unix_s");
    if (!c.event.order_id.empty()) {
      o.id = c.event.order_id;
      o.status = status(line);
      o.session_id = text(line, "session_id");
      o.payment_intent = text(line, "payment_intent");
      o.last_failure_message = text(line, "last_failure_message");
    }
  } else {
    throw bad_line{"unknown change '" + kind + "'"};
  }
  return c;
}

} // namespace

std::string encode_change(const order_change& change) {
  json line;
  switch (change.kind) {
  case change_kind::order_created:
    line = created_json(change.subject);
    break;
  case change_kind::session_attached:
    line = session_json(change.subject);
    break;
  case change_kind::event_applied:
    line = event_json(change);
    break;
  }
  // dump escapes control characters, so the line never holds a newline.
  return line.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<order_change> decode_change(std::string_view line,
                                          std::string& error) {
  auto doc = json::parse(line, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  try {
    return decode_object(doc);
  } catch (const bad_line& e) {
    error = e.why;
    return std::nullopt;
  }
}

} // namespace store
