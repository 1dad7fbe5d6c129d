#include "webhook_verify.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cassert>
#include <vector>

namespace store {

namespace {

// A header with more entries than this is refused rather than scanned: a
// sender rotating secrets needs two or three, not hundreds.
constexpr size_t signature_entries_max = 16;
// 18 digits still fit an int64_t; real Unix seconds have 10.
constexpr size_t timestamp_digits_max = 18;
constexpr size_t sha256_size = 32;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits on `sep`, trimming each piece and dropping empty ones.
std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    auto pos = s.find(sep);
    auto piece = trim(s.substr(0, pos));
    if (!piece.empty()) {
      out.push_back(piece);
    }
    if (pos == std::string_view::npos) {
      break;
    }
    s.remove_prefix(pos + 1);
  }
  return out;
}

std::optional<int64_t> parse_unix_s(std::string_view text) {
  if (text.empty() || text.size() > timestamp_digits_max) {
    return std::nullopt;
  }
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

bool within_tolerance(int64_t t_s, int64_t now_s, int64_t tolerance_s) {
  auto diff = t_s > now_s ? t_s - now_s : now_s - t_s;
  return diff <= tolerance_s;
}

// Constant-time so the time taken does not leak how many bytes matched.
bool same_mac(const std::string& expected, const std::string& candidate) {
  assert(expected.size() == sha256_size);
  return candidate.size() == expected.size() &&
         CRYPTO_memcmp(expected.data(), candidate.data(), expected.size()) == 0;
}

} // namespace

const char* to_string(verify_error err) {
  switch (err) {
  case verify_error::none:
    return "ok";
  case verify_error::missing_header:
    return "missing signature header";
  case verify_error::malformed_header:
    return "malformed signature header";
  case verify_error::bad_secret:
    return "endpoint secret is not whsec_<base64>";
  case verify_error::stale_timestamp:
    return "timestamp outside tolerance";
  case verify_error::bad_signature:
    return "no matching signature";
  }
  return "unknown";
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  auto* ok = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                  reinterpret_cast<const unsigned char*>(data.data()),
                  data.size(), mac.data(), &mac_len);
  // HMAC only fails on allocation failure or a broken OpenSSL: a crash is
  // better than silently accepting or refusing every webhook.
  assert(ok != nullptr && mac_len == sha256_size);
  (void)ok;
  return std::string(reinterpret_cast<const char*>(mac.data()), mac_len);
}

verify_error verify_stripe_signature(std::string_view header,
                                     std::string_view body,
                                     std::string_view secret, int64_t now_s,
                                     int64_t tolerance_s) {
  if (trim(header).empty()) {
    return verify_error::missing_header;
  }
  auto entries = split(header, ',');
  if (entries.size() > signature_entries_max) {
    return verify_error::malformed_header;
  }
  std::optional<int64_t> t_s;
  std::string_view t_text; // signed as sent, leading zeros and all
  std::vector<std::string_view> candidates;
  for (auto entry : entries) {
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) {
      return verify_error::malformed_header;
    }
    auto key = trim(entry.substr(0, eq));
    auto value = trim(entry.substr(eq + 1));
    if (key == "t") {
      if (t_s) {
        return verify_error::malformed_header; // two timestamps: ambiguous
      }
      t_s = parse_unix_s(value);
      t_text = value;
      if (!t_s) {
        return verify_error::malformed_header;
      }
    } else if (key == "v1") {
      candidates.push_back(value);
    } // other schemes (v0, ...) are ignored, as Stripe's libraries do
  }
  if (!t_s || candidates.empty()) {
    return verify_error::malformed_header;
  }
  if (!within_tolerance(*t_s, now_s, tolerance_s)) {
    return verify_error::stale_timestamp;
  }
  std::string signed_text(t_text);
  signed_text += '.';
  signed_text.append(body.data(), body.size());
  auto expected = hmac_sha256(secret, signed_text);
  bool match = false;
  for (auto candidate : candidates) {
    auto bytes = from_hex(candidate);
    // No early exit: every entry costs the same whether or not one matched.
    match |= bytes && same_mac(expected, *bytes);
  }
  return match ? verify_error::none : verify_error::bad_signature;
}

verify_error verify_standard_signature(std::string_view webhook_id,
                                       std::string_view timestamp,
                                       std::string_view signature_header,
                                       std::string_view body,
                                       std::string_view secret, int64_t now_s,
                                       int64_t tolerance_s) {
  webhook_id = trim(webhook_id);
  timestamp = trim(timestamp);
  if (webhook_id.empty() || timestamp.empty() ||
      trim(signature_header).empty()) {
    return verify_error::missing_header;
  }
  constexpr std::string_view prefix = "whsec_";
  if (secret.substr(0, prefix.size()) == prefix) {
    secret.remove_prefix(prefix.size());
  }
  auto key = base64_decode(secret);
  if (!key || key->empty()) {
    return verify_error::bad_secret;
  }
  auto t_s = parse_unix_s(timestamp);
  auto entries = split(signature_header, ' ');
  if (!t_s || entries.size() > signature_entries_max) {
    return verify_error::malformed_header;
  }
  std::vector<std::string_view> candidates;
  for (auto entry : entries) {
    auto comma = entry.find(',');
    if (comma == std::string_view::npos) {
      return verify_error::malformed_header;
    }
    if (entry.substr(0, comma) == "v1") {
      candidates.push_back(entry.substr(comma + 1));
    } // v1a (asymmetric) and future versions are not ours to check
  }
  if (candidates.empty()) {
    return verify_error::malformed_header;
  }
  if (!within_tolerance(*t_s, now_s, tolerance_s)) {
    return verify_error::stale_timestamp;
  }
  std::string signed_text;
  signed_text.reserve(webhook_id.size() + timestamp.size() + body.size() + 2);
  signed_text.append(webhook_id.data(), webhook_id.size());
  signed_text += '.';
  signed_text.append(timestamp.data(), timestamp.size());
  signed_text += '.';
  signed_text.append(body.data(), body.size());
  auto expected = hmac_sha256(*key, signed_text);
  bool match = false;
  for (auto candidate : candidates) {
    auto bytes = base64_decode(candidate);
    match |= bytes && same_mac(expected, *bytes);
  }
  return match ? verify_error::none : verify_error::bad_signature;
}

verify_error verify_webhook(const webhook_headers& headers,
                            std::string_view body, std::string_view secret,
                            int64_t now_s, int64_t tolerance_s) {
  auto err = verify_stripe_signature(headers.stripe_signature, body, secret,
                                     now_s, tolerance_s);
  if (err != verify_error::none) {
    return err;
  }
  return verify_standard_signature(
      headers.webhook_id, headers.webhook_timestamp, headers.webhook_signature,
      body, secret, now_s, tolerance_s);
}

} // namespace store
