#include "runtime/report_service.hpp"

#include "actors/clock.hpp"
#include "runtime/recon_store.hpp"
#include "runtime/statement_render.hpp"
#include "runtime/statement_source.hpp"

namespace psp {

namespace {

using json = nlohmann::json;

/// A valid period that has ended; `report` names what it is for.
std::optional<http::api_error> check_period(const recon::period& p,
                                            const std::string& report) {
  if (!recon::valid_period(p)) {
    return http::invalid_param(
      "to", "from and to must satisfy 0 <= from < to, at most "
              + std::to_string(recon::period_length_s_max / 86'400)
              + " days apart.");
  }
  if (auto why = recon::unended_period(p, unix_now_s(), report, "to")) {
    return http::invalid_param("to", *why + ".");
  }
  return std::nullopt;
}

std::variant<statement::statement_format, http::api_error>
check_format(const std::string& text) {
  auto f = statement::parse_format(text);
  if (!f) {
    return http::invalid_param("format", "format must be json, csv or html.");
  }
  return *f;
}

template <class T>
std::variant<json, http::api_error>
as_answer(std::variant<T, report_failure> out) {
  if (auto* f = std::get_if<report_failure>(&out)) {
    return to_api_error(*f);
  }
  return json(std::get<T>(std::move(out)));
}

std::variant<http::report_document, http::api_error>
rendered(std::variant<statement::merchant_statement, report_failure> out,
         statement::statement_format f) {
  if (auto* failure = std::get_if<report_failure>(&out)) {
    return to_api_error(*failure);
  }
  auto& s = std::get<statement::merchant_statement>(out);
  return http::report_document{statement::content_type(f),
                               statement::render(s, f)};
}

} // namespace

http::api_error to_api_error(const report_failure& f) {
  http::api_error e;
  e.message = f.message;
  switch (f.what) {
    case report_failure::kind::redis:
      e.status = 503;
      e.type = "api_error";
      break;
    case report_failure::kind::card_network:
      e.status = 502;
      e.type = "api_error";
      break;
    case report_failure::kind::not_found:
      e.status = 404;
      e.code = "resource_missing";
      break;
    case report_failure::kind::lease_lost:
      e.status = 409;
      break;
    case report_failure::kind::too_large:
      e.status = 400;
      break;
    case report_failure::kind::conflict:
      e.status = 409;
      e.code = "difference_already_resolved";
      break;
  }
  return e;
}

std::variant<json, http::api_error> report_service::reconcile(int64_t from_s,
                                                              int64_t to_s) {
  recon::period p{from_s, to_s};
  if (auto err = check_period(p, "a reconciliation")) {
    return *err;
  }
  auto conn = pool_.acquire();
  auto run = recon::run_reconciliation(*conn, recon_, p);
  if (auto* f = std::get_if<report_failure>(&run)) {
    return to_api_error(*f);
  }
  auto report = recon::to_json(std::get<recon::recon_run>(run));
  if (auto failed = recon::add_resolutions(*conn, report)) {
    return to_api_error(*failed);
  }
  return report;
}

std::variant<json, http::api_error>
report_service::list_reconciliations(size_t limit) {
  auto conn = pool_.acquire();
  return as_answer(recon::list_runs(*conn, limit));
}

std::variant<json, http::api_error>
report_service::operator_events(size_t limit) {
  auto conn = pool_.acquire();
  return as_answer(recon::list_operator_events(*conn, limit));
}

std::variant<json, http::api_error>
report_service::reconciliation(const std::string& id) {
  auto conn = pool_.acquire();
  return as_answer(recon::load_run(*conn, id));
}

std::variant<json, http::api_error>
report_service::resolve_difference(const std::string& id, size_t index,
                                   const std::string& note) {
  auto conn = pool_.acquire();
  return as_answer(recon::resolve_difference(*conn, id, index, note));
}

std::variant<http::report_document, http::api_error>
report_service::statement(const std::string& merchant_id, int64_t from_s,
                          int64_t to_s, const std::string& format) {
  recon::period p{from_s, to_s};
  if (auto err = check_period(p, "a statement")) {
    return *err;
  }
  auto f = check_format(format);
  if (auto* err = std::get_if<http::api_error>(&f)) {
    return *err;
  }
  auto conn = pool_.acquire();
  return rendered(statement::load_statement(*conn, merchant_id, p,
                                            unix_now_s()),
                  std::get<statement::statement_format>(f));
}

std::variant<json, http::api_error>
report_service::stored_statements(const std::string& merchant_id) {
  auto conn = pool_.acquire();
  return as_answer(statement::list_stored_statements(*conn, merchant_id));
}

std::variant<http::report_document, http::api_error>
report_service::stored_statement(const std::string& merchant_id,
                                 int64_t from_s, const std::string& format) {
  auto f = check_format(format);
  if (auto* err = std::get_if<http::api_error>(&f)) {
    return *err;
  }
  auto conn = pool_.acquire();
  return rendered(statement::load_stored_statement(*conn, merchant_id, from_s),
                  std::get<statement::statement_format>(f));
}

} // namespace psp
