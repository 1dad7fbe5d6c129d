// Admin API for reconciliation and statements (admin token, like
// /admin/dead_letters): parameter parsing and answers only; the work is
// behind the operator_reports port (runtime/report_service).

#include "adapters/http/admin_auth.hpp"
#include "adapters/http/admin_ids.hpp"
#include "adapters/http/card_number_mask.hpp"
#include "adapters/http/operator_reports.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/http/routes.hpp"
#include "adapters/http/text_checks.hpp"

#include <httplib.h>

namespace psp::http {

namespace {

using json = nlohmann::json;

/// A required Unix-seconds parameter from the query string or form body.
std::variant<int64_t, api_error> seconds_param(const httplib::Request& req,
                                               const char* name) {
  auto given = request_param(req, name);
  if (auto* err = std::get_if<api_error>(&given)) {
    return *err;
  }
  auto& text = std::get<std::optional<std::string>>(given);
  if (!text) {
    return missing_param(name);
  }
  auto value = parse_count(*text);
  if (!value) {
    return invalid_param(name, std::string{name}
                                 + " must be a Unix time in seconds.");
  }
  return *value;
}

/// `from` and `to` (Unix seconds) of a period request.
std::variant<std::pair<int64_t, int64_t>, api_error>
period_params(const httplib::Request& req) {
  auto from = seconds_param(req, "from");
  if (auto* err = std::get_if<api_error>(&from)) {
    return *err;
  }
  auto to = seconds_param(req, "to");
  if (auto* err = std::get_if<api_error>(&to)) {
    return *err;
  }
  return std::pair{std::get<int64_t>(from), std::get<int64_t>(to)};
}

/// The port, or a 503 when the node was started without it.
operator_reports* reports_or_error(api_context& ctx, httplib::Response& res) {
  if (ctx.reports == nullptr) {
    api_error e;
    e.status = 503;
    e.type = "api_error";
    e.message = "Reconciliation and statements are not available here.";
    write_error(res, e);
  }
  return ctx.reports;
}

template <class T>
void answer(httplib::Response& res, std::variant<T, api_error> out) {
  if (auto* err = std::get_if<api_error>(&out)) {
    return write_error(res, *err);
  }
  if constexpr (std::is_same_v<T, json>) {
    write_json(res, std::get<json>(out).dump());
  } else {
    auto& doc = std::get<report_document>(out);
    res.set_content(doc.body, doc.content_type.c_str());
  }
}

std::string format_param(const httplib::Request& req) {
  return req.has_param("format") ? req.get_param_value("format") : "json";
}

void create_run(api_context& ctx, const httplib::Request& req,
                httplib::Response& res) {
  auto* port = reports_or_error(ctx, res);
  if (!port) {
    return;
  }
  auto period = period_params(req);
  if (auto* err = std::get_if<api_error>(&period)) {
    return write_error(res, *err);
  }
  auto [from, to] = std::get<std::pair<int64_t, int64_t>>(period);
  answer(res, port->reconcile(from, to));
}

/// The longest note an operator writes on a resolved difference.
constexpr size_t resolution_note_max = 500;

/// POST /admin/reconciliations/:id/differences/:index/resolve (note): the
/// operator says a difference is handled and how; every later run that
/// finds it shows the note instead of raising it again (docs/ledger.md).
void resolve_difference(api_context& ctx, const httplib::Request& req,
                        httplib::Response& res) {
  auto* port = reports_or_error(ctx, res);
  if (!port) {
    return;
  }
  auto index = parse_count(req.matches[2]);
  if (!index) {
    api_error e = not_found("difference", req.matches[2]);
    return write_error(res, e);
  }
  auto given = request_param(req, "note");
  if (auto* err = std::get_if<api_error>(&given)) {
    return write_error(res, *err);
  }
  auto& note = std::get<std::optional<std::string>>(given);
  if (!note || note->find_first_not_of(" \t") == std::string::npos) {
    return write_error(res, missing_param("note"));
  }
  if (utf8_length(*note) > resolution_note_max
      || has_control_or_direction_override(*note)) {
    return write_error(
      res, invalid_param("note", "note must be at most 500 characters of "
                                 "text without control characters."));
  }
  if (contains_card_number(*note)) {
    // Kept in Redis for good and shown to every operator: never a PAN.
    return write_error(
      res, invalid_param("note", "note must not hold a card number."));
  }
  answer(res, port->resolve_difference(req.matches[1],
                                        static_cast<size_t>(*index), *note));
}

/// `limit` (1..100, default 10) of a list request.
std::variant<size_t, api_error> limit_param(const httplib::Request& req) {
  if (!req.has_param("limit")) {
    return size_t{10};
  }
  auto n = parse_count(req.get_param_value("limit"));
  if (!n || *n < 1 || *n > 100) {
    return invalid_param("limit", "limit must be 1..100.");
  }
  return static_cast<size_t>(*n);
}

/// A list read from the reports port with the request's `limit`.
template <class Read>
void list_with_limit(api_context& ctx, const httplib::Request& req,
                     httplib::Response& res, Read read) {
  auto* port = reports_or_error(ctx, res);
  if (!port) {
    return;
  }
  auto limit = limit_param(req);
  if (auto* err = std::get_if<api_error>(&limit)) {
    return write_error(res, *err);
  }
  answer(res, read(*port, std::get<size_t>(limit)));
}

void list_runs(api_context& ctx, const httplib::Request& req,
               httplib::Response& res) {
  list_with_limit(ctx, req, res, [](auto& port, size_t limit) {
    return port.list_reconciliations(limit);
  });
}

void list_events(api_context& ctx, const httplib::Request& req,
                 httplib::Response& res) {
  list_with_limit(ctx, req, res, [](auto& port, size_t limit) {
    return port.operator_events(limit);
  });
}

void statement(api_context& ctx, const httplib::Request& req,
               httplib::Response& res) {
  auto* port = reports_or_error(ctx, res);
  if (!port) {
    return;
  }
  auto period = period_params(req);
  if (auto* err = std::get_if<api_error>(&period)) {
    return write_error(res, *err);
  }
  auto [from, to] = std::get<std::pair<int64_t, int64_t>>(period);
  answer(res, port->statement(req.matches[1], from, to, format_param(req)));
}

void stored_statement(api_context& ctx, const httplib::Request& req,
                      httplib::Response& res) {
  auto* port = reports_or_error(ctx, res);
  if (!port) {
    return;
  }
  auto from = parse_count(req.matches[2]);
  if (!from) {
    return write_error(res, not_found("statement", req.matches[2]));
  }
  answer(res, port->stored_statement(req.matches[1], *from, format_param(req)));
}

/// As admin_only, for a route whose first match is an id: one that no object
/// can have is answered as an unknown one (`what` names the object) before
/// `handler` reads anything.
template <class Handler>
auto admin_only_by_id(api_context& ctx, const char* what, Handler handler) {
  return admin_only(ctx, [what, handler](api_context& c,
                                         const httplib::Request& req,
                                         httplib::Response& res) {
    std::string id = req.matches[1];
    if (!is_object_id(id)) {
      return write_error(res, not_found(what, id));
    }
    handler(c, req, res);
  });
}

} // namespace

void add_report_routes(httplib::Server& srv, api_context& ctx) {
  const std::string id = admin_id_pattern;
  srv.Post("/admin/reconciliations", admin_only(ctx, create_run));
  srv.Get("/admin/reconciliations", admin_only(ctx, list_runs));
  srv.Get("/admin/events", admin_only(ctx, list_events));
  srv.Get("/admin/reconciliations/" + id,
          admin_only_by_id(ctx, "reconciliation run",
                           [](api_context& c, const httplib::Request& req,
                              httplib::Response& res) {
                             if (auto* port = reports_or_error(c, res)) {
                               answer(res,
                                      port->reconciliation(req.matches[1]));
                             }
                           }));
  srv.Post("/admin/reconciliations/" + id + "/differences/([0-9]+)/resolve",
           admin_only_by_id(ctx, "reconciliation run", resolve_difference));
  srv.Get("/admin/statements/" + id,
          admin_only_by_id(ctx, "merchant", statement));
  srv.Get("/admin/statements/" + id + "/stored",
          admin_only_by_id(ctx, "merchant",
                           [](api_context& c, const httplib::Request& req,
                              httplib::Response& res) {
                             if (auto* port = reports_or_error(c, res)) {
                               answer(res,
                                      port->stored_statements(req.matches[1]));
                             }
                           }));
  // The period's start is an id too: "abc" is a statement nobody stored.
  srv.Get("/admin/statements/" + id + "/stored/" + id,
          admin_only_by_id(ctx, "merchant", stored_statement));
}

} // namespace psp::http
