#include "order_sync.hpp"

#include "psp_client.hpp"
#include "store_routes.hpp"

namespace store {

bool sync_order(order_book& orders, const order& o,
                const checkout_session& session, int64_t now_s) {
  bool paid = session.status == "complete"
              && (session.payment_status == "paid"
                  || session.payment_status == "no_payment_required");
  if (o.status != order_status::pending || !paid || session.id.empty()) {
    return false;
  }
  webhook_event ev;
  ev.id = "sync_" + session.id;
  ev.type = "checkout.session.completed";
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
  size_t paid = 0;
  for (const auto& o : orders.snapshot()) {
    if (stopping.load()) {
      break;
    }
    if (o.status != order_status::pending || o.session_id.empty()) {
      continue;
    }
    auto session = psp.retrieve_checkout_session(o.session_id);
    if (session.ok() && sync_order(orders, o, *session.value, unix_now_s())) {
      ++paid;
    }
  }
  return paid;
}

} // namespace store
