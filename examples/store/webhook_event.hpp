// The few fields of a PSP event the store acts on, pulled out of the JSON
// body once so the order book never touches JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace store {

/// A webhook event reduced to what the store needs. Empty strings mean
/// "not present in the event".
struct webhook_event {
  std::string id;   ///< `evt_…`, the deduplication key
  std::string type; ///< e.g. `checkout.session.completed`
  int64_t created_unix_s = 0;
  std::string object_type;     ///< `data.object.object`
  std::string object_id;       ///< `data.object.id` (`cs_…` or `pi_…`)
  std::string order_id;        ///< client_reference_id or metadata.order_id
  std::string payment_intent;  ///< `pi_…` the event is about, if any
  std::string payment_status;  ///< a session's `payment_status`
  std::string failure_message; ///< `last_payment_error.message`
};

/// Parses an event body; nullopt when it is not JSON, or lacks a string
/// `id`, a string `type` or an object `data.object`. Never throws.
std::optional<webhook_event> parse_webhook_event(std::string_view body);

} // namespace store
