#pragma once

// Brings a multi_client answer back into the actor that asked: the
// completion runs on the client's thread, so it only sends a message
// (Atom, ticket, status, body, error) to the actor's address, and the actor
// finishes the request on its own thread (a response promise is never
// delivered from a foreign thread). Dropped when the actor is gone.

#include "adapters/http_client/multi_client.hpp"

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include <cstdint>
#include <utility>

namespace psp::http_client {

template <class Atom>
post_completion answer_to_actor(caf::actor_addr asker, uint64_t ticket) {
  return [asker = std::move(asker), ticket](post_response r) {
    if (auto to = caf::actor_cast<caf::actor>(asker)) {
      caf::anon_send(to, Atom::value, ticket, r.status, std::move(r.body),
                     std::move(r.error));
    }
  };
}

} // namespace psp::http_client
