#pragma once

// The Redis key schema in one place (docs/architecture.md explains it).

#include <string>

namespace psp::keys {

inline const std::string payment_stream = "stream:payments";
inline const std::string payment_group = "payment-workers";
inline const std::string event_stream = "stream:events";
inline const std::string ledger_stream = "ledger:transactions";
inline const std::string balances = "ledger:balances";
inline const std::string deliveries_due = "webhooks:due";
inline const std::string dead_letter_stream = "stream:deadletter";

inline std::string merchant(const std::string& id) { return "merchant:" + id; }
inline std::string api_key(const std::string& hash_hex) {
  return "apikey:" + hash_hex;
}
inline std::string session(const std::string& id) { return "cs:" + id; }
inline std::string intent(const std::string& id) { return "pi:" + id; }
inline std::string attempt(const std::string& id) { return "pa:" + id; }
inline std::string event(const std::string& id) { return "evt:" + id; }
inline std::string endpoint(const std::string& id) { return "we:" + id; }
inline std::string merchant_endpoints(const std::string& merchant_id) {
  return "merchant:" + merchant_id + ":endpoints";
}
inline std::string merchant_sessions(const std::string& merchant_id) {
  return "merchant:" + merchant_id + ":sessions";
}
inline std::string merchant_intents(const std::string& merchant_id) {
  return "merchant:" + merchant_id + ":intents";
}
inline std::string merchant_events(const std::string& merchant_id) {
  return "merchant:" + merchant_id + ":events";
}

} // namespace psp::keys
