#include "adapters/http/object_ids.hpp"

#include "adapters/crypto/digest.hpp"
#include "adapters/crypto/random_id.hpp"

#include <string_view>

namespace psp::http {

namespace {

struct scope_state {
  bool active = false;
  std::string secret;
  std::string seed;
};

// HTTP handlers run synchronously on one thread per request.
thread_local scope_state current;

constexpr char base62[]
  = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

} // namespace

derived_ids_scope::derived_ids_scope(const std::string& secret,
                                     const std::string& seed) {
  current = scope_state{true, secret, seed};
}

derived_ids_scope::~derived_ids_scope() {
  current = scope_state{};
}

bool ids_are_derived() {
  return current.active;
}

std::string object_id(const std::string& prefix) {
  if (!current.active) {
    return crypto::new_id(prefix);
  }
  // One id per prefix and request: 24 base62 characters from 24 bytes of
  // HMAC-SHA256 (each byte taken mod 62: a tiny bias, ~142 bits remain).
  auto mac = crypto::hmac_sha256(current.secret, current.seed + "\n" + prefix);
  std::string out = prefix;
  for (size_t i = 0; i < 24; ++i) {
    out += base62[static_cast<unsigned char>(mac[i]) % 62];
  }
  return out;
}

std::string card_payment_method_id(const std::string& attempt_id) {
  return "pm_" + attempt_id.substr(attempt_id.find('_') + 1);
}

std::string attempt_of_payment_method(const std::string& id) {
  constexpr std::string_view prefix = "pm_";
  if (id.size() <= prefix.size() || id.compare(0, prefix.size(), prefix) != 0
      || id.find('_', prefix.size()) != std::string::npos) {
    return {}; // pm_card_visa and the like are test ids, not attempts
  }
  return "pa_" + id.substr(prefix.size());
}

} // namespace psp::http
