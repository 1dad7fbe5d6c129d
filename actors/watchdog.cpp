#include "actors/watchdog.hpp"

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>

#include <map>
#include <memory>

namespace psp {

caf::actor
spawn_watchdog(caf::actor_system& sys,
               std::vector<std::pair<std::string, caf::actor>> watched,
               on_actor_down down) {
  return sys.spawn([watched = std::move(watched),
                    down = std::move(down)](caf::event_based_actor* self) {
    auto names = std::make_shared<std::map<caf::actor_addr, std::string>>();
    for (auto& [name, a] : watched) {
      (*names)[a.address()] = name;
      self->monitor(a);
    }
    auto fired = std::make_shared<bool>(false);
    self->set_down_handler([=](const caf::down_msg& msg) {
      if (*fired) {
        return;
      }
      *fired = true;
      auto found = names->find(msg.source);
      down(found == names->end() ? std::string{"unknown"} : found->second,
           msg.reason);
    });
    // Nothing to answer; a behavior with no handler at all would quit.
    return caf::behavior{[](caf::ok_atom) {}};
  });
}

} // namespace psp
