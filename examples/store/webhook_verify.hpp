// Pure functions that check the two signatures the PSP puts on every webhook:
// Stripe's `Stripe-Signature` and the Standard Webhooks `webhook-*` headers.
// No I/O and no clock: the caller passes "now", so tests can pin it.
#pragma once

#include "byte_encoding.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace store {

/// Why a webhook was refused; `none` means it was accepted.
enum class verify_error {
  none,
  missing_header,   ///< a required header is absent or empty
  malformed_header, ///< a header does not parse (no t=, bad number, ...)
  bad_secret,       ///< the endpoint secret is not `whsec_<base64>`
  stale_timestamp,  ///< the timestamp is outside the tolerance window
  bad_signature,    ///< no listed signature matches the body
};

/// Short text for logs and the 400 response body.
const char* to_string(verify_error err);

/// The headers the verifier needs, copied out of the HTTP request.
struct webhook_headers {
  std::string stripe_signature;  ///< `Stripe-Signature`
  std::string webhook_id;        ///< `webhook-id`
  std::string webhook_timestamp; ///< `webhook-timestamp`
  std::string webhook_signature; ///< `webhook-signature`
};

/// How far a signed timestamp may be from "now", either way. Replays older
/// than this are refused even with a valid signature.
constexpr int64_t default_tolerance_s = 300;

/// Raw HMAC-SHA256 (32 bytes) of `data` keyed with `key`.
std::string hmac_sha256(std::string_view key, std::string_view data);

/// Checks `Stripe-Signature: t=<unix s>,v1=<hex>[,v1=<hex>...]`. The HMAC key
/// is the whole secret string, including the `whsec_` prefix, as Stripe does.
verify_error verify_stripe_signature(std::string_view header,
                                     std::string_view body,
                                     std::string_view secret, int64_t now_s,
                                     int64_t tolerance_s = default_tolerance_s);

/// Checks the Standard Webhooks headers. The HMAC key is the base64-decoded
/// part of the secret after `whsec_`; the signed text is `id.timestamp.body`.
/// `signature_header` is a space-separated list of `v1,<base64>` entries.
verify_error verify_standard_signature(
    std::string_view webhook_id, std::string_view timestamp,
    std::string_view signature_header, std::string_view body,
    std::string_view secret, int64_t now_s,
    int64_t tolerance_s = default_tolerance_s);

/// Both checks; the first failure wins. A webhook is trusted only when both
/// signatures hold, so a leak of one scheme's key alone is not enough.
verify_error verify_webhook(const webhook_headers& headers,
                            std::string_view body, std::string_view secret,
                            int64_t now_s,
                            int64_t tolerance_s = default_tolerance_s);

} // namespace store
