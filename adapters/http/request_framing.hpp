#pragma once

// Checks of a request's head made before its body is read. cpp-httplib
// 0.11 reads a body by the first Content-Length it finds, parsed leniently
// ("abc" and "0x18" read as 0, "-1" as 2^64-1, a second, different one
// ignored), skips a header named with a space before its colon
// ("Transfer-Encoding : chunked") and cuts a value at a NUL when asked for
// it; a body read short of what the client meant is parsed as the next
// request (the fuzzing audit ran a GET and a DELETE that way). What is
// refused here is answered with the connection closed (bounded_connection).

#include "adapters/http/api_errors.hpp"

#include <httplib.h>

#include <cstddef>
#include <optional>

namespace psp::http {

/// The error for a request whose head is malformed or ambiguous: a header
/// name that is not an RFC 9110 token (400), a control character in a value
/// (400), a body sent chunked (411) or compressed (415), a Content-Length
/// that is not one plain decimal (400) or is over `body_bytes_max` (413, at
/// once instead of after reading the body), two Authorization or
/// Idempotency-Key headers (400), a body on a method cpp-httplib does not
/// read one for (GET, HEAD, OPTIONS, ...: 400; the re-test hid a POST in a
/// GET's body and it ran, with the next client's headers as its
/// description). nullopt when none of these.
std::optional<api_error> framing_error(const std::string& method,
                                       const httplib::Headers& headers,
                                       size_t body_bytes_max);

/// The error for a query string the API refuses: a NUL (%00) in any
/// parameter's name or value (as in a form body: codec::decode_form), or
/// any parameter on a POST to the merchant API (`/v1/...`): those belong in
/// the form body (Stripe's clients put them there), and the handlers read
/// only the body, so a query parameter was ignored without a word (the API
/// audit refunded a whole charge for `POST /v1/refunds?amount=100`). A 400
/// naming the first. The admin routes read a POST's parameters from
/// either place and are not refused for that.
std::optional<api_error> query_error(const std::string& method,
                                     const std::string& path,
                                     const httplib::Params& params);

} // namespace psp::http
