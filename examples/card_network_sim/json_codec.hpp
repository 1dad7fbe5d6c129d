#pragma once

// The wire format: turns records and errors into the JSON bodies the API
// answers with. No card number or CVC ever reaches these functions.

#include "types.hpp"

#include <string>

#include <nlohmann/json.hpp>

namespace psp::sim {

/// Serializes compactly; invalid UTF-8 is replaced instead of throwing.
std::string dump_json(const nlohmann::json& value);

/// `{"error":{"code":code,"message":message}}` as an api_response.
api_response error_response(int status, const std::string& code,
                            const std::string& message);

/// The body of a charge answer (200 or 402).
nlohmann::json charge_body(const charge_record& charge,
                           const std::string& decline_message);

/// The body of a refund answer.
nlohmann::json refund_body(const refund_record& refund);

/// One row of GET /admin/charges.
nlohmann::json charge_row(const charge_record& charge);

} // namespace psp::sim
