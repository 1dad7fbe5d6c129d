#pragma once

// An event as the API answers it, from its stored hash: the snapshot
// rendered as the webhook bodies are, with pending_webhooks counted from its
// delivery records. The merchant's events routes and the operator's object
// lookup answer the same.

#include "adapters/render/objects.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <set>
#include <string>

namespace psp::redis {
class connection;
}

namespace psp::http {

/// The merchant's webhook endpoints that still take deliveries: not
/// deleted, not disabled. A delivery to any other is dropped when it comes
/// due (claim_deliveries), so until then pending_webhooks must not count
/// it. One round trip; nullopt when Redis failed.
std::optional<std::set<std::string>>
live_endpoints(redis::connection& conn, const std::string& merchant_id);

/// `live`: the owning merchant's live_endpoints.
nlohmann::json render_stored_event(const std::string& id,
                                   render::fields& fields,
                                   const std::set<std::string>& live);

} // namespace psp::http
