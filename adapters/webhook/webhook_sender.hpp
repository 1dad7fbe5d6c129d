#pragma once

// The webhook_sender port: one actor that signs an event (Stripe's
// Stripe-Signature and the Standard Webhooks headers) and POSTs it through an
// event-loop HTTP client, up to `connections_per_endpoint` at once to each
// endpoint host, so a slow endpoint holds back only its own deliveries.

#include "actors/ports.hpp"

#include <caf/fwd.hpp>

namespace psp::webhook {

struct sender_settings {
  uint32_t connect_timeout_ms = 2'000;
  /// The exchange with the endpoint, from the moment it starts.
  uint32_t read_timeout_ms = 10'000;
  /// How long a delivery may wait for one of its host's connections: a
  /// slow endpoint's backlog must not eat the timeout of the deliveries
  /// behind it (they would fail without reaching it). The claim's lease
  /// must cover the wait and the exchange.
  uint32_t wait_max_ms = 10'000;
  size_t connections_per_endpoint = 8;
  /// False: deliveries connect only to public internet addresses (a
  /// merchant's URL must not reach the operator's network, decision 48);
  /// true for stacks where every endpoint is on loopback.
  bool private_addresses_allowed = false;
};

webhook_sender spawn_webhook_sender(caf::actor_system& sys,
                                    const sender_settings& cfg);

} // namespace psp::webhook
