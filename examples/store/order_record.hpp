// The order journal's line format: one JSON object per change to the order
// book. Kept apart from the book so the format is one short file to read,
// and so tests can write lines by hand.
#pragma once

#include "order_book.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace store {

enum class change_kind { order_created, session_attached, event_applied };

/// One change to the order book, as written on one journal line.
struct order_change {
  change_kind kind = change_kind::order_created;
  /// order_created: the whole new order (without events).
  /// session_attached: id, session_id, payment_intent and checkout_url.
  /// event_applied: id, status, session_id, payment_intent and
  /// last_failure_message as the event left them; empty id when the event
  /// matched no order. Results rather than the event itself, so replay
  /// does not depend on how a later version would interpret the event.
  order subject;
  event_record event; ///< event_applied only
};

/// One line, without its newline. Never throws: invalid UTF-8 (which no
/// field should hold) is replaced rather than refused.
std::string encode_change(const order_change& change);

/// The change on a line encode_change wrote; nullopt and `error` when the
/// line is not JSON or lacks a field. Never throws.
std::optional<order_change> decode_change(std::string_view line,
                                          std::string& error);

} // namespace store
