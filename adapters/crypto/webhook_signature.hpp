#pragma once

// Signatures that merchants use to check a webhook really came from us.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace psp::crypto {

/// Prefix of a Standard Webhooks secret; the rest is base64 of the key.
constexpr std::string_view webhook_secret_prefix = "whsec_";

/// Stripe's `Stripe-Signature` header value:
/// `t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>`. Stripe keys the HMAC
/// with the whole secret string, prefix included.
std::string stripe_signature_header(std::string_view secret,
                                    int64_t timestamp_s, std::string_view body);

/// Standard Webhooks' `webhook-signature` header value:
/// `v1,<base64 HMAC-SHA256(key, "<msg_id>.<ts>.<body>")>` where the key is
/// the base64 text after "whsec_". Nullopt if the secret lacks the prefix or
/// the rest is not valid base64 of at least one byte.
std::optional<std::string> standard_webhook_signature(std::string_view secret,
                                                      std::string_view msg_id,
                                                      int64_t timestamp_s,
                                                      std::string_view body);

/// A fresh secret usable with both schemes: "whsec_" + base64(32 random
/// bytes).
std::string new_webhook_secret();

} // namespace psp::crypto
