#pragma once

// An event as the API answers it, from its stored hash: the snapshot
// rendered as the webhook bodies are, with pending_webhooks counted from its
// delivery records. The merchant's events routes and the operator's object
// lookup answer the same.

#include "adapters/render/objects.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace psp::http {

nlohmann::json render_stored_event(const std::string& id,
                                   render::fields& fields);

} // namespace psp::http
