#pragma once

// Brings a multi_client answer back into the actor that asked: the
// completion runs on the client's thread, so it only sends a message
// (Atom, ticket, status, body, error) to the actor's address, and the actor
// finishes the request on its own thread (a response promise is never
// delivered from a foreign thread). Dropped when the actor is gone. The
// actor keeps what it needs to finish each request in open_requests, by
// ticket.

#include "adapters/http_client/multi_client.hpp"

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include <cstdint>
#include <optional>
#include <unordered_map>
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

/// What an actor keeps of each request it handed to a multi_client (its
/// response promise and whatever else it needs for the answer), by ticket.
template <class Request>
class open_requests {
public:
  /// Keeps `r`; the ticket to pass to answer_to_actor.
  uint64_t add(Request r) {
    auto ticket = ++last_ticket_;
    open_.emplace(ticket, std::move(r));
    return ticket;
  }

  /// The request of `ticket`, no longer kept; nullopt if unknown.
  std::optional<Request> take(uint64_t ticket) {
    auto i = open_.find(ticket);
    if (i == open_.end()) {
      return std::nullopt;
    }
    std::optional<Request> out{std::move(i->second)};
    open_.erase(i);
    return out;
  }

private:
  uint64_t last_ticket_ = 0;
  std::unordered_map<uint64_t, Request> open_;
};

} // namespace psp::http_client
