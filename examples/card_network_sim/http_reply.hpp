#pragma once

// Writing answers into cpp-httplib responses: every body is JSON, and a
// replayed idempotent answer carries `Idempotent-Replayed: true`.

#include "types.hpp"

#include <nlohmann/json_fwd.hpp>

namespace httplib {
struct Response;
} // namespace httplib

namespace psp::sim {

/// Writes `out` with its status, and the replay header when it was replayed.
void send(httplib::Response& res, const api_response& out);

/// Writes `body` as compact JSON with `status`.
void send_json(httplib::Response& res, int status, const nlohmann::json& body);

} // namespace psp::sim
