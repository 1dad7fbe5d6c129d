#pragma once

// The webhook_sender port: detached actors that sign an event (Stripe's
// Stripe-Signature and the Standard Webhooks headers) and POST it.

#include "actors/ports.hpp"

#include <caf/fwd.hpp>

namespace psp::webhook {

struct sender_settings {
  uint32_t connect_timeout_ms = 2'000;
  uint32_t read_timeout_ms = 10'000;
};

webhook_sender spawn_webhook_sender(caf::actor_system& sys,
                                    const sender_settings& cfg,
                                    size_t workers);

} // namespace psp::webhook
