#pragma once

// Stripe's Idempotency-Key semantics for POST requests, per merchant: the
// first request claims the key atomically with a fingerprint of its method,
// path and parameters; its answer is stored for replay (byte for byte, with
// `Idempotent-Replayed: true`). A different request under the same key is a
// 400 idempotency_error; a concurrent one a 409. Validation failures are not
// stored, so a corrected retry with the same key runs. A claim is a lease:
// after a crash it expires and a retry runs again.

#include "adapters/http/api_context.hpp"

#include <functional>
#include <string>

namespace httplib {
struct Request;
struct Response;
class Server;
} // namespace httplib

namespace psp::http {

using route_handler
  = std::function<void(const httplib::Request&, httplib::Response&)>;

/// Registers a POST route whose answers honour Idempotency-Key.
void post_idempotent(httplib::Server& srv, api_context& ctx,
                     const std::string& pattern, route_handler handler);

/// Whether an answer with this status is stored for replay.
bool stores_answer(int status);

/// Fingerprint of a request: SHA-256 over method, path and its parameters in
/// canonical order (so reordered form fields are the same request).
std::string request_fingerprint(const std::string& method,
                                const std::string& path,
                                const std::string& body);

} // namespace psp::http
