#include "http_routes.hpp"

#include "admin_routes.hpp"
#include "authorization_service.hpp"
#include "connection_drop.hpp"
#include "faults.hpp"
#include "http_reply.hpp"
#include "json_codec.hpp"
#include "payment_service.hpp"
#include "sim_stats.hpp"

#include <httplib.h>

#include <functional>

namespace psp::sim {

namespace {

using flow_fn = std::function<api_response(const httplib::Request&)>;

// The charge id segment of /v1/charges/{id}/capture and /void; httplib
// matches the whole path against these and puts the id in matches[1].
constexpr const char* capture_route = R"(/v1/charges/([^/]+)/capture)";
constexpr const char* void_route = R"(/v1/charges/([^/]+)/void)";

// Holds the request while the black hole is on, then closes the connection
// without an answer. Falls back to a 503 if the socket cannot be found.
void black_hole(sim_components& sim, const httplib::Request& req,
                httplib::Response& res) {
  ++sim.stats.injected_errors;
  sim.faults.hold_blackhole();
  if (!drop_connection(req.remote_addr, req.remote_port, req.local_port)) {
    send(res, error_response(503, "network_unavailable",
                             "The card network is unreachable."));
  }
}

// Wraps a payment flow with the faults drawn for this request.
void handle_payment(sim_components& sim, const httplib::Request& req,
                    httplib::Response& res, const flow_fn& flow) {
  ++sim.stats.requests;
  auto plan = sim.faults.draw();
  if (plan.blackhole) {
    black_hole(sim, req, res);
    return;
  }
  api_response out;
  if (plan.fail_before) {
    ++sim.stats.injected_errors;
    out = error_response(503, "network_unavailable",
                         "The card network is unavailable.");
  } else {
    out = flow(req);
    if (out.processed && plan.fail_after) {
      ++sim.stats.injected_errors;
      out = error_response(500, "network_error",
                           "The card network failed after processing; the "
                           "outcome is unknown.");
    }
  }
  sim.faults.delay(plan.delay_ms);
  send(res, out);
}

std::string idempotency_key(const httplib::Request& req) {
  return req.get_header_value("Idempotency-Key");
}

void install_payment_routes(httplib::Server& server, sim_components& sim) {
  server.Post("/v1/charges", [&sim](const auto& req, auto& res) {
    handle_payment(sim, req, res, [&sim](const httplib::Request& r) {
      return sim.payments.charge(idempotency_key(r), r.body);
    });
  });
  server.Post("/v1/refunds", [&sim](const auto& req, auto& res) {
    handle_payment(sim, req, res, [&sim](const httplib::Request& r) {
      return sim.payments.refund(idempotency_key(r), r.body);
    });
  });
  server.Post(capture_route, [&sim](const auto& req, auto& res) {
    handle_payment(sim, req, res, [&sim](const httplib::Request& r) {
      return sim.authorizations.capture(idempotency_key(r), r.matches[1],
                                        r.body);
    });
  });
  server.Post(void_route, [&sim](const auto& req, auto& res) {
    handle_payment(sim, req, res, [&sim](const httplib::Request& r) {
      return sim.authorizations.void_charge(idempotency_key(r), r.matches[1]);
    });
  });
}

// httplib calls the error handler for every status >= 400, including the
// ones our handlers set; only fill in a body where none was written (unknown
// route, oversized payload, unparsable request).
httplib::Server::HandlerResponse fill_error(const httplib::Request&,
                                            httplib::Response& res) {
  if (!res.body.empty()) {
    return httplib::Server::HandlerResponse::Unhandled;
  }
  auto code = res.status == 404   ? "not_found"
              : res.status == 413 ? "payload_too_large"
              : res.status < 500  ? "invalid_request"
                                  : "internal_error";
  send(res,
       error_response(res.status, code, "HTTP " + std::to_string(res.status)));
  return httplib::Server::HandlerResponse::Handled;
}

} // namespace

void install_routes(httplib::Server& server, sim_components& sim) {
  install_payment_routes(server, sim);
  install_admin_routes(server, sim);
  server.set_error_handler(httplib::Server::HandlerWithResponse{fill_error});
  server.set_exception_handler([](const httplib::Request&,
                                  httplib::Response& res, std::exception_ptr) {
    send(res, error_response(500, "internal_error",
                             "The simulator failed to handle the request."));
  });
}

} // namespace psp::sim
