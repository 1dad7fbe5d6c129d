#include "order_book.hpp"

#include <cassert>
#include <cstdlib>

namespace store {

namespace {

constexpr const char* order_id_prefix = "ord_";

// A completed session that is not (yet) paid, e.g. a delayed payment method,
// must not mark the order paid. No status at all is taken as paid, because
// "completed" then has no other meaning.
bool session_is_paid(const webhook_event& ev) {
  return ev.payment_status.empty() || ev.payment_status == "paid" ||
         ev.payment_status == "no_payment_required";
}

} // namespace

const char* to_string(order_status status) {
  switch (status) {
  case order_status::pending:
    return "pending";
  case order_status::paid:
    return "paid";
  }
  return "unknown";
}

order_book::order_book(order_limits limits) : limits_(limits) {
  assert(limits_.orders_max > 0 && limits_.event_ids_max > 0);
}

std::optional<order> order_book::create(const product& item, int64_t quantity,
                                        int64_t now_s) {
  assert(quantity > 0 && quantity <= quantity_max);
  std::lock_guard<std::mutex> guard(mtx_);
  if (orders_.size() >= limits_.orders_max) {
    return std::nullopt;
  }
  order o;
  o.id = order_id_prefix + std::to_string(orders_.size() + 1);
  o.product_id = item.id;
  o.product_name = item.name;
  o.quantity = quantity;
  o.amount_minor = item.unit_amount_minor * quantity;
  o.currency = item.currency;
  o.created_unix_s = now_s;
  orders_.push_back(o);
  return o;
}

bool order_book::attach_session(const std::string& order_id,
                                const std::string& session_id,
                                const std::string& payment_intent,
                                const std::string& checkout_url) {
  std::lock_guard<std::mutex> guard(mtx_);
  auto idx = index_of_locked(order_id);
  if (idx < 0) {
    return false;
  }
  auto& o = orders_[static_cast<size_t>(idx)];
  o.session_id = session_id;
  o.checkout_url = checkout_url;
  if (!session_id.empty()) {
    by_session_[session_id] = static_cast<size_t>(idx);
  }
  if (!payment_intent.empty()) {
    o.payment_intent = payment_intent;
    by_payment_intent_[payment_intent] = static_cast<size_t>(idx);
  }
  return true;
}

std::optional<order> order_book::find(const std::string& order_id) const {
  std::lock_guard<std::mutex> guard(mtx_);
  auto idx = index_of_locked(order_id);
  if (idx < 0) {
    return std::nullopt;
  }
  return orders_[static_cast<size_t>(idx)];
}

std::optional<order>
order_book::find_by_session(const std::string& session_id) const {
  std::lock_guard<std::mutex> guard(mtx_);
  auto it = by_session_.find(session_id);
  if (it == by_session_.end()) {
    return std::nullopt;
  }
  return orders_[it->second];
}

std::vector<order> order_book::snapshot() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return orders_;
}

apply_outcome order_book::apply(const webhook_event& ev, int64_t now_s) {
  std::lock_guard<std::mutex> guard(mtx_);
  if (seen_event_ids_.count(ev.id) > 0) {
    return apply_outcome::duplicate;
  }
  auto* o = order_for_event_locked(ev);
  event_record rec{ev.id, ev.type, o != nullptr ? o->id : "", now_s};
  remember_event_locked(rec);
  if (o == nullptr) {
    return apply_outcome::unknown_order;
  }
  if (ev.type == "checkout.session.completed") {
    if (session_is_paid(ev)) {
      o->status = order_status::paid;
    }
    if (!ev.object_id.empty()) {
      o->session_id = ev.object_id;
    }
  } else if (ev.type == "payment_intent.payment_failed") {
    // Stays pending: the shopper may retry on the hosted page.
    o->last_failure_message =
        ev.failure_message.empty() ? "payment failed" : ev.failure_message;
  }
  if (!ev.payment_intent.empty() && o->payment_intent.empty()) {
    o->payment_intent = ev.payment_intent;
    by_payment_intent_[ev.payment_intent] =
        static_cast<size_t>(index_of_locked(o->id));
  }
  if (o->events.size() < limits_.events_per_order_max) {
    o->events.push_back(std::move(rec));
  } else {
    ++o->events_dropped;
  }
  return apply_outcome::applied;
}

std::vector<event_record> order_book::events() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return {events_.begin(), events_.end()};
}

size_t order_book::order_count() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return orders_.size();
}

size_t order_book::event_ids_remembered() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return seen_event_ids_.size();
}

long order_book::index_of_locked(const std::string& order_id) const {
  std::string_view prefix = order_id_prefix;
  if (order_id.size() <= prefix.size() || order_id.size() > prefix.size() + 9 ||
      order_id.compare(0, prefix.size(), prefix) != 0) {
    return -1;
  }
  long n = 0;
  for (size_t i = prefix.size(); i < order_id.size(); ++i) {
    char c = order_id[i];
    if (c < '0' || c > '9') {
      return -1;
    }
    n = n * 10 + (c - '0');
  }
  // "ord_01" is not "ord_1": ids must round-trip exactly.
  if (n < 1 || static_cast<size_t>(n) > orders_.size() ||
      orders_[static_cast<size_t>(n - 1)].id != order_id) {
    return -1;
  }
  return n - 1;
}

order* order_book::order_for_event_locked(const webhook_event& ev) {
  if (!ev.order_id.empty()) {
    auto idx = index_of_locked(ev.order_id);
    return idx < 0 ? nullptr : &orders_[static_cast<size_t>(idx)];
  }
  if (!ev.payment_intent.empty()) {
    auto it = by_payment_intent_.find(ev.payment_intent);
    if (it != by_payment_intent_.end()) {
      return &orders_[it->second];
    }
  }
  if (!ev.object_id.empty()) {
    auto it = by_session_.find(ev.object_id);
    if (it != by_session_.end()) {
      return &orders_[it->second];
    }
  }
  return nullptr;
}

void order_book::remember_event_locked(event_record rec) {
  if (events_.size() >= limits_.event_ids_max) {
    // Forget the oldest: a redelivery that late would be applied again,
    // which is harmless because marking paid is itself idempotent.
    seen_event_ids_.erase(events_.front().id);
    events_.pop_front();
  }
  seen_event_ids_.insert(rec.id);
  events_.push_back(std::move(rec));
  assert(events_.size() == seen_event_ids_.size());
}

} // namespace store
