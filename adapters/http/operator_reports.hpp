#pragma once

// The port behind the admin API's reconciliation and statement routes. The
// work (Redis reads, the network's settlement report, matching, rendering)
// lives in runtime/, which implements this interface; the HTTP adapter only
// parses, authorises and writes answers, so it does not depend on runtime/.
// Every call blocks: it runs on an HTTP handler thread.

#include "adapters/http/api_errors.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

namespace psp::http {

/// A rendered document and its Content-Type.
struct report_document {
  std::string content_type;
  std::string body;
};

class operator_reports {
public:
  virtual ~operator_reports() = default;

  /// Runs and stores a reconciliation of [from_s, to_s); the run's report.
  virtual std::variant<nlohmann::json, api_error>
  reconcile(int64_t from_s, int64_t to_s) = 0;

  /// The newest `limit` runs (1..100), newest first, as a list object.
  virtual std::variant<nlohmann::json, api_error>
  list_reconciliations(size_t limit) = 0;

  /// The newest `limit` operator events (reconciliation.differences_found),
  /// newest first, as a list object.
  virtual std::variant<nlohmann::json, api_error>
  operator_events(size_t limit) = 0;

  /// One run's report (404 when unknown).
  virtual std::variant<nlohmann::json, api_error>
  reconciliation(const std::string& id) = 0;

  /// Marks difference `index` of run `id` resolved with `note` (404 unknown
  /// run or index, 409 resolved before); the difference with its
  /// resolution.
  virtual std::variant<nlohmann::json, api_error>
  resolve_difference(const std::string& id, size_t index,
                     const std::string& note) = 0;

  /// A merchant's statement computed now; `format` json|csv|html.
  virtual std::variant<report_document, api_error>
  statement(const std::string& merchant_id, int64_t from_s, int64_t to_s,
            const std::string& format) = 0;

  /// The statements the scheduler stored for a merchant, as a list object.
  virtual std::variant<nlohmann::json, api_error>
  stored_statements(const std::string& merchant_id) = 0;

  /// One stored statement by its period start.
  virtual std::variant<report_document, api_error>
  stored_statement(const std::string& merchant_id, int64_t from_s,
                   const std::string& format) = 0;
};

} // namespace psp::http
