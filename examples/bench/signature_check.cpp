#include "signature_check.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <vector>

namespace bench {

namespace {

constexpr size_t entries_max = 16;

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') {
    s.remove_prefix(1);
  }
  while (!s.empty() && s.back() == ' ') {
    s.remove_suffix(1);
  }
  return s;
}

bool parse_seconds(std::string_view text, int64_t& out) {
  if (text.empty() || text.size() > 18) {
    return false;
  }
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    out = out * 10 + (c - '0');
  }
  return true;
}

bool same_text(const std::string& a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace

const char* to_string(signature_verdict v) {
  switch (v) {
    case signature_verdict::ok:
      return "ok";
    case signature_verdict::missing:
      return "missing Stripe-Signature";
    case signature_verdict::malformed:
      return "malformed Stripe-Signature";
    case signature_verdict::stale:
      return "timestamp outside tolerance";
    case signature_verdict::mismatch:
      return "no matching v1 signature";
  }
  return "?";
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(),
           mac, &mac_len)
      == nullptr) {
    return {}; // never equal to a 64-character candidate
  }
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(mac_len * 2);
  for (unsigned int i = 0; i < mac_len; ++i) {
    out += digits[mac[i] >> 4];
    out += digits[mac[i] & 0x0f];
  }
  return out;
}

signature_verdict check_stripe_signature(std::string_view header,
                                         std::string_view body,
                                         std::string_view secret,
                                         int64_t now_s, int64_t tolerance_s) {
  header = trim(header);
  if (header.empty()) {
    return signature_verdict::missing;
  }
  std::string_view t_text;
  std::vector<std::string_view> candidates;
  size_t entries = 0;
  while (!header.empty()) {
    if (++entries > entries_max) {
      return signature_verdict::malformed;
    }
    auto comma = header.find(',');
    auto entry = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view{}
                                             : header.substr(comma + 1);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) {
      return signature_verdict::malformed;
    }
    auto key = entry.substr(0, eq);
    if (key == "t") {
      t_text = entry.substr(eq + 1);
    } else if (key == "v1") {
      candidates.push_back(entry.substr(eq + 1));
    }
  }
  int64_t t_s = 0;
  if (!parse_seconds(t_text, t_s) || candidates.empty()) {
    return signature_verdict::malformed;
  }
  if (t_s > now_s + tolerance_s || t_s < now_s - tolerance_s) {
    return signature_verdict::stale;
  }
  std::string signed_text{t_text};
  signed_text += '.';
  signed_text.append(body.data(), body.size());
  auto expected = hmac_sha256_hex(secret, signed_text);
  bool match = false;
  for (auto c : candidates) {
    match |= same_text(expected, c);
  }
  return match ? signature_verdict::ok : signature_verdict::mismatch;
}

} // namespace bench
