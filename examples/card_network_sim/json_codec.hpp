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

/// The charge as capture and void answer it: id, status, captured, amount
/// (authorised), amount_captured, currency, reference, merchant (null when
/// none), brand, last4, created.
nlohmann::json charge_object(const charge_record& charge);

/// The body of a POST /v1/charges answer: the charge object plus the
/// idempotency key for a 200; for a 402 the decline body as it always was
/// (status "declined", decline_code and message, no capture fields).
nlohmann::json charge_body(const charge_record& charge,
                           const std::string& decline_message);

/// The body of a refund answer.
nlohmann::json refund_body(const refund_record& refund);

/// One row of GET /admin/charges.
nlohmann::json charge_row(const charge_record& charge);

} // namespace psp::sim
