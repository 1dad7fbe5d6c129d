// Checks the `Stripe-Signature` header the PSP puts on every webhook:
// `t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>[,v1=...]`, keyed
// with the whole endpoint secret (`whsec_...`), as Stripe's libraries do.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bench {

enum class signature_verdict { ok, missing, malformed, stale, mismatch };

const char* to_string(signature_verdict v);

/// Lowercase hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// Verifies `header` for `body`; `t` must be within `tolerance_s` of `now_s`.
signature_verdict check_stripe_signature(std::string_view header,
                                         std::string_view body,
                                         std::string_view secret,
                                         int64_t now_s,
                                         int64_t tolerance_s = 300);

} // namespace bench
