#include "http_routes.hpp"

#include "admin_views.hpp"
#include "connection_drop.hpp"
#include "faults.hpp"
#include "idempotency_table.hpp"
#include "json_codec.hpp"
#include "ledger_book.hpp"
#include "payment_service.hpp"
#include "sim_stats.hpp"

#include <httplib.h>

#include <functional>

namespace psp::sim {

namespace {

using json = nlohmann::json;
using flow_fn = std::function<api_response(const httplib::Request&)>;

constexpr const char* json_type = "application/json";

void send(httplib::Response& res, const api_response& out) {
  res.status = out.status;
  if (out.replayed) {
    res.set_header("Idempotent-Replayed", "true");
  }
  res.set_content(out.body, json_type);
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(dump_json(body), json_type);
}

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

void install_payment_routes(httplib::Server& server, sim_components& sim) {
  server.Post("/v1/charges", [&sim](const auto& req, auto& res) {
    handle_payment(sim, req, res, [&sim](const httplib::Request& r) {
      return sim.payments.charge(r.get_header_value("Idempotency-Key"), r.body);
    });
  });
  server.Post("/v1/refunds", [&sim](const auto& req, auto& res) {
    handle_payment(sim, req, res, [&sim](const httplib::Request& r) {
      return sim.payments.refund(r.get_header_value("Idempotency-Key"), r.body);
    });
  });
}

void post_faults(sim_components& sim, const httplib::Request& req,
                 httplib::Response& res) {
  auto patch = json::parse(req.body, nullptr, false);
  if (patch.is_discarded()) {
    send(res, error_response(400, "invalid_request", "body must be JSON"));
    return;
  }
  if (auto err = sim.faults.patch(patch)) {
    send(res, error_response(400, "invalid_request", *err));
    return;
  }
  send_json(res, 200, to_json(sim.faults.knobs()));
}

void get_settlement(sim_components& sim, const httplib::Request& req,
                    httplib::Response& res) {
  auto window = parse_settlement_window(req.get_param_value("from"),
                                        req.get_param_value("to"));
  if (!window) {
    send(res, error_response(400, "invalid_request",
                             "from and to must be integer Unix seconds"));
    return;
  }
  auto charges = sim.ledger.charges();
  auto refunds = sim.ledger.refunds();
  send_json(res, 200, settlement_view(charges, refunds, *window));
}

void install_admin_routes(httplib::Server& server, sim_components& sim) {
  server.Get("/healthz", [](const auto&, auto& res) {
    send_json(res, 200, {{"status", "ok"}});
  });
  server.Get("/admin/faults", [&sim](const auto&, auto& res) {
    send_json(res, 200, to_json(sim.faults.knobs()));
  });
  server.Post("/admin/faults", [&sim](const auto& req, auto& res) {
    post_faults(sim, req, res);
  });
  server.Get("/admin/charge_counts", [&sim](const auto&, auto& res) {
    send_json(res, 200, charge_counts_view(sim.ledger));
  });
  server.Get("/admin/charges", [&sim](const auto&, auto& res) {
    send_json(res, 200, charges_view(sim.ledger));
  });
  server.Get("/admin/settlement", [&sim](const auto& req, auto& res) {
    get_settlement(sim, req, res);
  });
  server.Get("/admin/stats", [&sim](const auto&, auto& res) {
    send_json(res, 200, sim.stats.to_json());
  });
  server.Post("/admin/reset", [&sim](const auto&, auto& res) {
    sim.keys.clear();
    sim.ledger.clear();
    sim.stats.clear();
    sim.faults.reset();
    send_json(res, 200, {{"status", "reset"}});
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
