#include "actors/dead_letter.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

namespace psp {

namespace {

struct dead_letter_state {
  static inline const char* name = "psp.dead_letter";
  payment_store store;
  uint64_t recorded = 0;
};

using self_ptr = caf::stateful_actor<dead_letter_state>*;

caf::behavior dead_letter(self_ptr self, payment_store store) {
  self->state.store = std::move(store);
  return {
    [=](dead_atom, dead_letter_record& rec) {
      ++self->state.recorded;
      return self->delegate(self->state.store, dead_atom::value,
                            std::move(rec));
    },
    [=](stats_atom) { return self->state.recorded; },
  };
}

} // namespace

caf::actor spawn_dead_letter(caf::actor_system& sys, payment_store store) {
  return sys.spawn(dead_letter, std::move(store));
}

} // namespace psp
