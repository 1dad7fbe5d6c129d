#pragma once

// The card_network port over HTTP: one actor and one event-loop HTTP client
// with up to `connections` keep-alive connections to the network, sending
// the request's idempotency key (network_idempotency_key in messages.hpp) as
// the network's Idempotency-Key. The sealed card is opened
// here, right before the call, and nowhere else.

#include "actors/ports.hpp"
#include "adapters/card_network/network_counters.hpp"

#include <caf/fwd.hpp>

#include <memory>
#include <string>

namespace psp::crypto {
class card_vault;
}

namespace psp::card {

struct client_settings {
  std::string base_url = "http://127.0.0.1:4010";
  uint32_t connect_timeout_ms = 2'000;
  /// The whole call, including a wait for a free connection.
  uint32_t read_timeout_ms = 10'000;
  /// Calls in flight at once; at 200 ms of network latency, 64 connections
  /// carry up to 320 calls/s.
  size_t connections = 64;
  /// Connections kept while calls barely overlap: the client opens more,
  /// up to `connections`, only when calls wait for one (multi_client.hpp).
  size_t connections_min = 8;
};

/// Plaintext sealed for an attempt: "pan|exp_month|exp_year" (no CVC: it is
/// never stored, so it cannot travel through the durable queue).
std::string card_plaintext(const std::string& pan, int exp_month,
                           int exp_year);

/// `counters` (may be null) counts each call's answer for /metrics; a call
/// without a final answer is also logged (`event=card_network_call_failed`).
card_network spawn_card_network_client(
  caf::actor_system& sys, const client_settings& cfg,
  const crypto::card_vault& vault,
  std::shared_ptr<network_counters> counters = nullptr);

} // namespace psp::card
