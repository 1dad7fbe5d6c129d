#include "order_book.hpp"

#include "order_record.hpp"

#include <cassert>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <random>

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

// 64 random bits as hex plus '-'. Uniqueness is all that is needed (the key
// is no secret), so std::random_device is enough.
std::string random_key_prefix() {
  std::random_device device;
  uint64_t bits = (static_cast<uint64_t>(device()) << 32) ^ device();
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016" PRIx64, bits);
  return std::string(hex) + "-";
}

// The fields `ev` leaves on `o` (id, status, session, intent, failure),
// worked out before anything changes so they can be logged first.
order event_result(const order& o, const webhook_event& ev) {
  order r;
  r.id = o.id;
  r.status = o.status;
  r.session_id = o.session_id;
  r.payment_intent = o.payment_intent;
  r.last_failure_message = o.last_failure_message;
  if (ev.type == "checkout.session.completed") {
    if (session_is_paid(ev)) {
      r.status = order_status::paid;
    }
    if (!ev.object_id.empty()) {
      r.session_id = ev.object_id;
    }
  } else if (ev.type == "checkout.session.expired") {
    // Only a pending order: a paid one is never taken back.
    if (r.status == order_status::pending) {
      r.status = order_status::expired;
    }
  } else if (ev.type == "payment_intent.payment_failed") {
    // Stays pending: the shopper may retry on the hosted page.
    r.last_failure_message =
        ev.failure_message.empty() ? "payment failed" : ev.failure_message;
  }
  if (!ev.payment_intent.empty() && r.payment_intent.empty()) {
    r.payment_intent = ev.payment_intent;
  }
  return r;
}

} // namespace

const char* to_string(order_status status) {
  switch (status) {
  case order_status::pending:
    return "pending";
  case order_status::paid:
    return "paid";
  case order_status::expired:
    return "expired";
  }
  return "unknown";
}

// The Idempotency-Key of an order's session create is this prefix plus the
// order id. Without a journal a restarted store counts from ord_1 again while
// the PSP remembers keys for 24 h: a bare order id would get the earlier
// run's session back (or a 400 for other parameters). With a journal the key
// is journaled with its order, so the order keeps it across restarts, and
// new orders (whose ids continue after the journal's) take this run's
// prefix; that also stays unique if a journal is deleted but the PSP's
// memory of its keys is not.
order_book::order_book(order_limits limits, order_log* log)
    : limits_(limits), log_(log), key_prefix_(random_key_prefix()) {
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
  o.idempotency_key = key_prefix_ + o.id;
  if (!log_locked({change_kind::order_created, o, {}})) {
    return std::nullopt;
  }
  add_order_locked(o);
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
  order_change change{change_kind::session_attached, {}, {}};
  change.subject.id = order_id;
  change.subject.session_id = session_id;
  change.subject.payment_intent = payment_intent;
  change.subject.checkout_url = checkout_url;
  if (!log_locked(change)) {
    return false;
  }
  attach_session_locked(static_cast<size_t>(idx), change.subject);
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
  order_change change{change_kind::event_applied, {}, {}};
  change.event = {ev.id, ev.type, o != nullptr ? o->id : "", now_s};
  if (o != nullptr) {
    change.subject = event_result(*o, ev);
  }
  if (!log_locked(change)) {
    return apply_outcome::not_recorded;
  }
  remember_event_locked(change.event);
  if (o == nullptr) {
    return apply_outcome::unknown_order;
  }
  settle_event_locked(*o, std::move(change.event), change.subject);
  return apply_outcome::applied;
}

std::string order_book::replay(std::string_view line) {
  std::string error;
  auto change = decode_change(line, error);
  if (!change) {
    return error;
  }
  std::lock_guard<std::mutex> guard(mtx_);
  auto& subject = change->subject;
  switch (change->kind) {
  case change_kind::order_created: {
    auto next = order_id_prefix + std::to_string(orders_.size() + 1);
    if (subject.id != next) {
      return "order " + subject.id + " where " + next + " comes next";
    }
    if (subject.idempotency_key.empty()) {
      return "order " + subject.id + " has no idempotency key";
    }
    // Kept even beyond orders_max (the limit was lowered): a recorded order
    // may be paid. The limit still refuses new ones.
    add_order_locked(std::move(subject));
    return "";
  }
  case change_kind::session_attached: {
    auto idx = index_of_locked(subject.id);
    if (idx < 0) {
      return "session for unknown order '" + subject.id + "'";
    }
    attach_session_locked(static_cast<size_t>(idx), subject);
    return "";
  }
  case change_kind::event_applied: {
    auto& rec = change->event;
    if (rec.id.empty()) {
      return "event without an id";
    }
    long idx = -1;
    if (!rec.order_id.empty()) {
      idx = index_of_locked(rec.order_id);
      if (idx < 0) {
        return "event " + rec.id + " for unknown order '" + rec.order_id + "'";
      }
    }
    // Seen already only when event_ids_max grew since the line was written
    // (the id had been forgotten then, and so was applied twice): the id
    // stays remembered once, where it first was.
    if (seen_event_ids_.count(rec.id) == 0) {
      remember_event_locked(rec);
    }
    if (idx >= 0) {
      settle_event_locked(orders_[static_cast<size_t>(idx)], std::move(rec),
                          subject);
    }
    return "";
  }
  }
  return "unknown change";
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
    if (idx < 0) {
      return nullptr;
    }
    auto& o = orders_[static_cast<size_t>(idx)];
    // An order id names this order only if the payment agrees: an event of
    // an earlier store run (without a journal, numbering started over) that
    // names another session or intent is not this order's.
    bool other_session = ev.object_type == "checkout.session"
                         && !o.session_id.empty() && !ev.object_id.empty()
                         && ev.object_id != o.session_id;
    bool other_intent = !o.payment_intent.empty() && !ev.payment_intent.empty()
                        && ev.payment_intent != o.payment_intent;
    return other_session || other_intent ? nullptr : &o;
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

bool order_book::log_locked(const order_change& change) {
  return log_ == nullptr || log_->append(encode_change(change));
}

void order_book::add_order_locked(order o) {
  orders_.push_back(std::move(o));
}

void order_book::attach_session_locked(size_t idx, const order& with_session) {
  auto& o = orders_[idx];
  o.session_id = with_session.session_id;
  o.checkout_url = with_session.checkout_url;
  if (!o.session_id.empty()) {
    by_session_[o.session_id] = idx;
  }
  if (!with_session.payment_intent.empty()) {
    o.payment_intent = with_session.payment_intent;
    by_payment_intent_[o.payment_intent] = idx;
  }
}

void order_book::settle_event_locked(order& o, event_record rec,
                                     const order& result) {
  o.status = result.status;
  o.session_id = result.session_id;
  o.last_failure_message = result.last_failure_message;
  if (!result.payment_intent.empty() &&
      result.payment_intent != o.payment_intent) {
    o.payment_intent = result.payment_intent;
    by_payment_intent_[o.payment_intent] =
        static_cast<size_t>(&o - orders_.data());
  }
  if (o.events.size() < limits_.events_per_order_max) {
    o.events.push_back(std::move(rec));
  } else {
    ++o.events_dropped;
  }
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
