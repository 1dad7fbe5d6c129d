// Transformers between the store's values and the PSP's wire format:
// form-encoded request bodies out, JSON objects in. Pure, so tested without
// a network; psp_client does the I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace store {

/// Ordered key/value pairs of a form body; order kept for readable logs.
using form_fields = std::vector<std::pair<std::string, std::string>>;

/// Percent-encodes for application/x-www-form-urlencoded. Spaces become
/// %20 (not '+') so decoders that skip the '+' rule still read them right.
/// With `keep_brackets`, '[' and ']' stay literal, for Stripe-style keys.
std::string form_encode(std::string_view text, bool keep_brackets = false);

/// `k1=v1&k2=v2`, keys with literal brackets, values fully encoded.
std::string encode_form(const form_fields& fields);

/// Decodes a form body or query string ('+' is a space); malformed percent
/// escapes are kept as literal text. At most `fields_max` pairs are read.
form_fields decode_form(std::string_view body, size_t fields_max = 64);

/// The first value for `key`, or "".
std::string form_value(const form_fields& fields, std::string_view key);

/// Everything the store sends to create a checkout session.
struct checkout_request {
  std::string order_id;
  std::string product_name;
  int64_t unit_amount_minor = 0;
  int64_t quantity = 1;
  std::string currency;
  std::string public_url; ///< the store's base URL, no trailing slash
  /// Sent as the Idempotency-Key header, not in the form: the order's
  /// order::idempotency_key, never reused by a later run.
  std::string idempotency_key;
};

/// Form fields for POST /v1/checkout/sessions.
form_fields checkout_form(const checkout_request& req);

/// Marks the endpoints this store registers, so a later run (maybe on
/// another port) can find and delete them.
inline constexpr std::string_view store_endpoint_description = "example-store";

/// Form fields for POST /v1/webhook_endpoints pointing at `<public>/webhook`.
form_fields webhook_endpoint_form(std::string_view public_url);

/// The parts of a checkout.session the store reads.
struct checkout_session {
  std::string id;
  std::string url;
  std::string status;
  std::string payment_status;
  std::string payment_intent;
  std::string client_reference_id;
  int64_t amount_total = 0;
  std::string currency;
};

/// Parses a checkout.session JSON body; nullopt without a string `id`.
std::optional<checkout_session> parse_checkout_session(std::string_view body);

/// The parts of a webhook_endpoint the store reads.
struct webhook_endpoint {
  std::string id;
  std::string secret; ///< `whsec_…`, shown once, kept in memory only
};

/// Parses a webhook_endpoint JSON body; nullopt without `id` and `secret`.
std::optional<webhook_endpoint> parse_webhook_endpoint(std::string_view body);

/// A failed call to the PSP. `status` 0 means no HTTP answer at all.
struct psp_error {
  int status = 0;
  std::string type;
  std::string code;
  std::string message;
};

/// Reads Stripe's `{"error":{...}}`; falls back to a generic message when
/// the body is not that shape (a proxy's HTML page, an empty body, ...).
psp_error parse_psp_error(int status, std::string_view body);

} // namespace store
