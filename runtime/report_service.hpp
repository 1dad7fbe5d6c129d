#pragma once

// The admin API's reconciliation and statement port, implemented over the
// node's Redis pool and the card network's settlement report. Runs on HTTP
// handler threads (each call leases one pooled connection).

#include "adapters/http/operator_reports.hpp"
#include "adapters/redis/connection_pool.hpp"
#include "runtime/recon_runner.hpp"

namespace psp {

class report_service : public http::operator_reports {
public:
  /// `recon.trigger` and `recon.node` name the runs this service starts.
  report_service(redis::connection_pool& pool, recon::run_settings recon)
    : pool_(pool), recon_(std::move(recon)) {
  }

  std::variant<nlohmann::json, http::api_error>
  reconcile(int64_t from_s, int64_t to_s) override;

  std::variant<nlohmann::json, http::api_error>
  list_reconciliations(size_t limit) override;

  std::variant<nlohmann::json, http::api_error>
  reconciliation(const std::string& id) override;
  std::variant<nlohmann::json, http::api_error>
  resolve_difference(const std::string& id, size_t index,
                     const std::string& note) override;

  std::variant<nlohmann::json, http::api_error>
  operator_events(size_t limit) override;

  std::variant<http::report_document, http::api_error>
  statement(const std::string& merchant_id, int64_t from_s, int64_t to_s,
            const std::string& format) override;

  std::variant<nlohmann::json, http::api_error>
  stored_statements(const std::string& merchant_id) override;

  std::variant<http::report_document, http::api_error>
  stored_statement(const std::string& merchant_id, int64_t from_s,
                   const std::string& format) override;

private:
  redis::connection_pool& pool_;
  const recon::run_settings recon_;
};

/// The admin API's answer to a failure (503 Redis, 502 card network, 404,
/// 409 lease, 400 too large).
http::api_error to_api_error(const report_failure& f);

} // namespace psp
