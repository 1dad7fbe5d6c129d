#pragma once

// Stripe's error object and status codes, so that official clients raise the
// matching exception class (invalid_request_error -> 400/404, authentication
// -> 401, card_error -> 402, idempotency_error -> 400/409, api_error -> 5xx).

#include <optional>
#include <string>

namespace httplib {
struct Response;
}

namespace psp::http {

struct api_error {
  int status = 400;
  std::string type = "invalid_request_error";
  std::string message;
  std::string param;   ///< empty: omitted
  std::string code;    ///< empty: omitted
  std::string decline_code;         ///< card errors; empty: omitted
  std::string payment_intent_json;  ///< the intent, serialized; empty: omitted
  std::string payment_method_json;  ///< card errors; empty: omitted
};

/// 400 payment_intent_unexpected_state for an op the status does not allow.
api_error unexpected_state(const std::string& what, const std::string& status);

/// 400 payment_intent_unexpected_state for an op on an intent its Checkout
/// Session runs; `instead` says what to do ("expire the session instead").
api_error session_owned_intent(const std::string& instead);

api_error invalid_param(std::string param, std::string message);
/// 400 parameter_invalid_integer: an amount or count that is not a whole
/// number in range (Stripe's code for "Invalid integer: ...").
api_error invalid_integer(std::string param, std::string message);
/// 400 amount_too_large: an amount above what may be charged or moved.
api_error amount_too_large(std::string param, std::string message);
api_error missing_param(const std::string& param);
/// 400 for a value that would be stored and reads as a card number; the
/// value is not echoed (it may be the card). `hint` ends the message.
api_error card_number_in(const std::string& param, const std::string& hint = {});
api_error unknown_param(const std::string& param);
api_error not_found(const std::string& what, const std::string& id);
api_error unavailable(const std::string& what);

/// For a request no route matched: when it is one of our routes that take
/// an id (`GET /v1/payment_intents/<id>`, `POST .../<id>/confirm`, ...)
/// but the id has characters our ids never have, the 404
/// `resource_missing` Stripe gives for any unknown id; nullopt for a
/// method and URL we do not serve at all.
std::optional<api_error> missing_object_error(const std::string& method,
                                              const std::string& path);

/// Writes the error as `{"error": {...}}` with its status code.
void write_error(httplib::Response& res, const api_error& err);
/// The 500 of a handler that threw.
void write_unexpected_error(httplib::Response& res);

/// Writes a JSON body with status 200 (or `status`).
void write_json(httplib::Response& res, const std::string& body,
                int status = 200);

} // namespace psp::http
