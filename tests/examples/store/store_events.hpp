// Webhook events and products the store's unit tests feed the order book.
#pragma once

#include "catalog.hpp"
#include "webhook_event.hpp"

#include <string>

namespace store::test {

inline const product& tshirt() {
  return *find_product("tshirt");
}

inline const product& mug() {
  return *find_product("mug");
}

/// A paid checkout.session.completed naming `order_id` (client reference).
inline webhook_event completed(const std::string& event_id,
                               const std::string& order_id,
                               const std::string& session_id = "cs_test_1",
                               const std::string& pi = "pi_1") {
  webhook_event ev;
  ev.id = event_id;
  ev.type = "checkout.session.completed";
  ev.object_type = "checkout.session";
  ev.object_id = session_id;
  ev.order_id = order_id;
  ev.payment_intent = pi;
  ev.payment_status = "paid";
  return ev;
}

/// A checkout.session.expired naming `order_id` (client reference).
inline webhook_event expired(const std::string& event_id,
                             const std::string& order_id,
                             const std::string& session_id = "cs_test_1") {
  webhook_event ev;
  ev.id = event_id;
  ev.type = "checkout.session.expired";
  ev.object_type = "checkout.session";
  ev.object_id = session_id;
  ev.order_id = order_id;
  ev.payment_status = "unpaid";
  return ev;
}

/// A payment_intent.payment_failed; without `order_id` the book finds the
/// order by its intent.
inline webhook_event failed(const std::string& event_id, const std::string& pi,
                            const std::string& message,
                            const std::string& order_id = "") {
  webhook_event ev;
  ev.id = event_id;
  ev.type = "payment_intent.payment_failed";
  ev.object_type = "payment_intent";
  ev.object_id = pi;
  ev.order_id = order_id;
  ev.payment_intent = pi;
  ev.failure_message = message;
  return ev;
}

} // namespace store::test
