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

checkout_request checkout_request_of(const order& o,
                                     const std::string& public_url) {
  checkout_request req;
  req.order_id = o.id;
  req.product_name = o.product_name;
  req.quantity = o.quantity;
  // The book made amount_minor as unit × quantity.
  req.unit_amount_minor = o.quantity > 0 ? o.amount_minor / o.quantity : 0;
  req.currency = o.currency;
  req.public_url = public_url;
  req.idempotency_key = o.idempotency_key;
  return req;
}

catch_up_result catch_up_pending_orders(order_book& orders, psp_api& psp,
                                        const std::string& public_url,
                                        const std::atomic<bool>& stopping) {
  catch_up_result out;
  for (const auto& o : orders.snapshot()) {
    if (stopping.load()) {
      break;
    }
    if (o.status != order_status::pending) {
      continue;
    }
    if (o.session_id.empty()) {
      auto session = psp.create_checkout_session(
        checkout_request_of(o, public_url));
      if (session.ok() && !session.value->url.empty()
          && orders.attach_session(o.id, session.value->id,
                                   session.value->payment_intent,
                                   session.value->url)) {
        ++out.attached;
      } else if (!session.ok() && session.error.status >= 400
                 && session.error.status < 500) {
        ++out.refused;
      }
      continue;
    }
    auto session = psp.retrieve_checkout_session(o.session_id);
    if (session.ok() && sync_order(orders, o, *session.value,
                                      static_cast<int64_t>(std::time(nullptr)))) {
      ++out.settled;
    }
  }
  return out;
}

} // namespace store
