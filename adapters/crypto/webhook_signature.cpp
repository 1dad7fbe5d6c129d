#include "adapters/crypto/webhook_signature.hpp"

#include "adapters/crypto/digest.hpp"
#include "adapters/crypto/encoding.hpp"
#include "adapters/crypto/random_id.hpp"

namespace psp::crypto {

namespace {

/// Bytes of key material in a secret from new_webhook_secret().
constexpr size_t webhook_key_size = 32;

} // namespace

std::string stripe_signature_header(std::string_view secret,
                                    int64_t timestamp_s,
                                    std::string_view body) {
  std::string ts = std::to_string(timestamp_s);
  std::string signed_payload;
  signed_payload.reserve(ts.size() + 1 + body.size());
  signed_payload.append(ts).append(".").append(body);
  std::string out = "t=";
  out.append(ts).append(",v1=");
  out.append(to_hex(hmac_sha256(secret, signed_payload)));
  return out;
}

std::optional<std::string> standard_webhook_signature(std::string_view secret,
                                                      std::string_view msg_id,
                                                      int64_t timestamp_s,
                                                      std::string_view body) {
  if (secret.substr(0, webhook_secret_prefix.size()) != webhook_secret_prefix) {
    return std::nullopt;
  }
  auto key = base64_decode(secret.substr(webhook_secret_prefix.size()));
  if (!key || key->empty()) {
    return std::nullopt;
  }
  std::string ts = std::to_string(timestamp_s);
  std::string signed_payload;
  signed_payload.reserve(msg_id.size() + 1 + ts.size() + 1 + body.size());
  signed_payload.append(msg_id).append(".").append(ts).append(".").append(body);
  std::string out = "v1,";
  out.append(base64_encode(hmac_sha256(*key, signed_payload)));
  return out;
}

std::string new_webhook_secret() {
  std::string out(webhook_secret_prefix);
  out.append(base64_encode(random_bytes(webhook_key_size)));
  return out;
}

} // namespace psp::crypto
