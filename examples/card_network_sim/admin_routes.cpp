#include "admin_routes.hpp"

#include "admin_views.hpp"
#include "faults.hpp"
#include "http_reply.hpp"
#include "http_routes.hpp"
#include "idempotency_table.hpp"
#include "journal.hpp"
#include "json_codec.hpp"
#include "ledger_book.hpp"
#include "settlement_faults.hpp"
#include "sim_stats.hpp"

#include <httplib.h>
#include <mutex>

namespace psp::sim {

namespace {

using json = nlohmann::json;

// Parses a JSON body; answers 400 and returns nothing when it is not JSON.
std::optional<json> json_body(const httplib::Request& req,
                              httplib::Response& res) {
  auto doc = json::parse(req.body, nullptr, false);
  if (doc.is_discarded()) {
    send(res, error_response(400, "invalid_request", "body must be JSON"));
    return std::nullopt;
  }
  return doc;
}

void post_faults(sim_components& sim, const httplib::Request& req,
                 httplib::Response& res) {
  auto patch = json_body(req, res);
  if (!patch) {
    return;
  }
  if (auto err = sim.faults.patch(*patch)) {
    send(res, error_response(400, "invalid_request", *err));
    return;
  }
  send_json(res, 200, to_json(sim.faults.knobs()));
}

void post_settlement_faults(sim_components& sim, const httplib::Request& req,
                            httplib::Response& res) {
  auto doc = json_body(req, res);
  if (!doc) {
    return;
  }
  settlement_fault_set faults;
  if (auto err = parse_settlement_faults(*doc, faults)) {
    send(res, error_response(400, "invalid_request", *err));
    return;
  }
  sim.settlement_faults.replace(faults);
  send_json(res, 200, to_json(faults));
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
  send_json(res, 200,
            settlement_view(sim.ledger.settlement(), *window,
                            sim.settlement_faults.get()));
}

void install_fault_routes(httplib::Server& server, sim_components& sim) {
  server.Get("/admin/faults", [&sim](const auto&, auto& res) {
    send_json(res, 200, to_json(sim.faults.knobs()));
  });
  server.Post("/admin/faults", [&sim](const auto& req, auto& res) {
    post_faults(sim, req, res);
  });
  server.Get("/admin/settlement_faults", [&sim](const auto&, auto& res) {
    send_json(res, 200, to_json(sim.settlement_faults.get()));
  });
  server.Post("/admin/settlement_faults", [&sim](const auto& req, auto& res) {
    post_settlement_faults(sim, req, res);
  });
  server.Delete("/admin/settlement_faults", [&sim](const auto&, auto& res) {
    sim.settlement_faults.clear();
    send_json(res, 200, to_json(sim.settlement_faults.get()));
  });
}

} // namespace

void install_admin_routes(httplib::Server& server, sim_components& sim) {
  install_fault_routes(server, sim);
  server.Get("/healthz", [](const auto&, auto& res) {
    send_json(res, 200, {{"status", "ok"}});
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
    // Under the journal's lock no operation is half-way, so what the
    // journal forgets is exactly what the ledger and the keys forget.
    std::unique_lock<std::mutex> quiet;
    if (sim.journal != nullptr) {
      quiet = sim.journal->lock();
      if (!sim.journal->clear()) {
        send_json(res, 500, {{"error", {{"code", "journal"},
                                        {"message", "cannot empty the journal"}}}});
        return;
      }
    }
    sim.keys.clear();
    sim.ledger.clear();
    sim.stats.clear();
    sim.faults.reset();
    sim.settlement_faults.clear();
    send_json(res, 200, {{"status", "reset"}});
  });
}

} // namespace psp::sim
