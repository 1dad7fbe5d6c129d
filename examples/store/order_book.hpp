// In-memory orders and the webhook events applied to them. Thread-safe: the
// HTTP server calls it from many threads. Every collection has a maximum.
// With an order_log every change is written down before it takes effect, and
// replay() rebuilds the book from those lines after a restart.
#pragma once

#include "catalog.hpp"
#include "webhook_event.hpp"

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace store {

/// An order stays `pending` until a verified checkout.session.completed says
/// the money was taken; the store never guesses `paid` from anything else.
/// A verified checkout.session.expired makes a pending order `expired` (the
/// shopper never paid; what the cart held is released).
enum class order_status { pending, paid, expired };

const char* to_string(order_status status);

/// One received (non-duplicate) event, kept per order and globally.
struct event_record {
  std::string id;
  std::string type;
  std::string order_id; ///< "" when the event matched no order
  int64_t received_unix_s = 0;
};

struct order {
  std::string id; ///< `ord_<n>`
  /// Sent as the Idempotency-Key of the checkout-session create: the book's
  /// random prefix plus the id, fixed at creation (and journaled with it).
  std::string idempotency_key;
  std::string product_id;
  std::string product_name;
  int64_t quantity = 0;
  int64_t amount_minor = 0;
  std::string currency;
  order_status status = order_status::pending;
  std::string session_id;     ///< `cs_…` once the PSP created one
  std::string payment_intent; ///< `pi_…`
  std::string checkout_url;   ///< hosted payment page
  std::string last_failure_message;
  int64_t created_unix_s = 0;
  std::vector<event_record> events;
  uint64_t events_dropped = 0; ///< events beyond events_per_order_max
};

struct order_limits {
  /// New orders are refused beyond this; the shop is a demo, not a database.
  size_t orders_max = 100'000;
  /// Event ids remembered for deduplication (and kept in the global event
  /// list); the oldest is forgotten first.
  size_t event_ids_max = 1'000'000;
  /// Events listed on one order; later ones are counted, not stored.
  size_t events_per_order_max = 1'000;
};

struct order_change; // one logged change, see order_record.hpp

/// What `apply` did with an event.
enum class apply_outcome {
  applied,       ///< new event, recorded on its order (and acted upon)
  duplicate,     ///< id seen before: nothing changed
  unknown_order, ///< new event, but no order matches; recorded globally
  not_recorded,  ///< the log refused it: nothing changed, ask for a retry
};

/// Where the book writes each change, under its lock and before the change
/// takes effect, so the log's order is the order the book applied them.
/// order_journal is the file behind it; tests use an in-memory one.
class order_log {
public:
  virtual ~order_log() = default;
  /// Makes `line` (one JSON object, no newline) durable. False when it
  /// could not; the book then leaves the change undone.
  virtual bool append(const std::string& line) = 0;
};

class order_book {
public:
  /// `log` (may be null) must outlive the book.
  explicit order_book(order_limits limits = {}, order_log* log = nullptr);

  /// Creates `ord_<n>` (pending); nullopt when orders_max is reached or
  /// the log refused the change.
  std::optional<order> create(const product& item, int64_t quantity,
                              int64_t now_s);

  /// Remembers the PSP session for an order; false if the order is unknown
  /// or the log refused the change.
  bool attach_session(const std::string& order_id,
                      const std::string& session_id,
                      const std::string& payment_intent,
                      const std::string& checkout_url);

  /// A copy of the order, or nullopt.
  std::optional<order> find(const std::string& order_id) const;

  /// A copy of the order created with this checkout session, or nullopt.
  std::optional<order> find_by_session(const std::string& session_id) const;

  /// Copies of all orders, oldest first.
  std::vector<order> snapshot() const;

  /// Deduplicates by event id, then applies the event to its order, all
  /// under one lock so two deliveries of one event cannot both apply.
  apply_outcome apply(const webhook_event& ev, int64_t now_s);

  /// Re-applies one line an earlier run's log wrote (before serving; it is
  /// not logged again). "" on success, else why the line does not fit.
  std::string replay(std::string_view line);

  /// Non-duplicate events received, oldest first (bounded by event_ids_max).
  std::vector<event_record> events() const;

  size_t order_count() const;
  size_t event_ids_remembered() const;

private:
  // Index into orders_ for `ord_<n>`, or -1.
  long index_of_locked(const std::string& order_id) const;
  order* order_for_event_locked(const webhook_event& ev);
  void remember_event_locked(event_record rec);
  // True when there is no log or it took the change.
  bool log_locked(const order_change& change);
  // The mutations, shared by the live calls and replay() so that both end
  // in the same state.
  void add_order_locked(order o);
  void attach_session_locked(size_t idx, const order& with_session);
  void settle_event_locked(order& o, event_record rec, const order& result);

  const order_limits limits_;
  order_log* const log_;
  // Random per book: see the constructor for why.
  const std::string key_prefix_;
  mutable std::mutex mtx_;
  // ord_<n> lives at orders_[n - 1]: ids are dense and never removed.
  std::vector<order> orders_;
  std::unordered_map<std::string, size_t> by_session_;
  std::unordered_map<std::string, size_t> by_payment_intent_;
  std::unordered_set<std::string> seen_event_ids_;
  std::deque<event_record> events_; // same ids as seen_event_ids_, in order
};

} // namespace store
