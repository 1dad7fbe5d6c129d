#pragma once

// The admin API's gate: `Authorization: Bearer <admin token>`, compared in
// constant time; without a configured token the admin API is off.

#include "adapters/http/api_context.hpp"

namespace httplib {
struct Request;
struct Response;
} // namespace httplib

namespace psp::http {

/// True when the request carries the admin token; otherwise writes a 401
/// and returns false.
bool admin_allowed(api_context& ctx, const httplib::Request& req,
                   httplib::Response& res);

/// `handler(ctx, req, res)` behind the admin token, as a route handler.
template <class Handler>
auto admin_only(api_context& ctx, Handler handler) {
  return [&ctx, handler](const httplib::Request& req, httplib::Response& res) {
    if (admin_allowed(ctx, req, res)) {
      handler(ctx, req, res);
    }
  };
}

} // namespace psp::http
