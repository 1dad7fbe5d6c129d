#pragma once

// Reading the example store's `GET /orders` answer in tests. Lookups go
// through find(): the answer may be the store's error body, and a const
// json's operator[] on a missing key is undefined behaviour.

#include <nlohmann/json.hpp>

#include <string>

namespace psp::test {

/// The first object of the array `j[key]` whose `field` is `value`, or
/// null (also when `j` or `j[key]` has another shape).
inline nlohmann::json element_where(const nlohmann::json& j, const char* key,
                                    const char* field,
                                    const std::string& value) {
  auto list = j.is_object() ? j.find(key) : j.end();
  if (list != j.end() && list->is_array()) {
    for (auto& e : *list) {
      if (e.is_object() && e.value(field, "") == value) {
        return e;
      }
    }
  }
  return nullptr;
}

/// The store's order for a session, or null.
inline nlohmann::json order_for(const nlohmann::json& orders,
                                const std::string& session_id) {
  return element_where(orders, "orders", "session_id", session_id);
}

/// Whether the order recorded an event of this type.
inline bool has_event(const nlohmann::json& order, const std::string& type) {
  return !element_where(order, "events", "type", type).is_null();
}

} // namespace psp::test
