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
  /// The whole delivery, including a wait for a free connection.
  uint32_t read_timeout_ms = 10'000;
  size_t connections_per_endpoint = 8;
  /// False: deliveries connect only to public internet addresses (a
  /// merchant's URL must not reach the operator's network, decision 48);
  /// true for stacks where every endpoint is on loopback.
  bool private_addresses_allowed = false;
};

webhook_sender spawn_webhook_sender(caf::actor_system& sys,
                                    const sender_settings& cfg);

} // namespace psp::webhook
