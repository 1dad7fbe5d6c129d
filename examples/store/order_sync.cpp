#include "order_sync.hpp"

#include "psp_client.hpp"

#include <ctime>

namespace store {

bool sync_order(order_book& orders, const order& o,
                const checkout_session& session, int64_t now_s) {
  bool paid = session.status == "complete"
              && (session.payment_status == "paid"
                  || session.payment_status == "no_payment_required");
  bool expired = session.status == "expired";
  if (o.status != order_status::pending || !(paid || expired)
      || session.id.empty()) {
    return false;
  }
  webhook_event ev;
  // One id for either: a session is paid or expired, never both.
  ev.id = "sync_" + session.id;
  ev.type = paid ? "checkout.session.completed" : "checkout.session.expired";
  ev.created_unix_s = now_s;
  ev.object_type = "checkout.session";
  ev.object_id = session.id;
  ev.order_id = o.id;
  ev.payment_intent = session.payment_intent;
  ev.payment_status = session.payment_status;
  return orders.apply(ev, now_s) == apply_outcome::applied;
}

size_t catch_up_pending_orders(order_book& orders, psp_api& psp,
                               const std::atomic<bool>& stopping) {
  size_t changed = 0;
  for (const auto& o : orders.snapshot()) {
    if (stopping.load()) {
      break;
    }
    if (o.status != order_status::pending || o.session_id.empty()) {
      continue;
    }
    auto session = psp.retrieve_checkout_session(o.session_id);
    if (session.ok() && sync_order(orders, o, *session.value,
                                      static_cast<int64_t>(std::time(nullptr)))) {
      ++changed;
    }
  }
  return changed;
}

} // namespace store
