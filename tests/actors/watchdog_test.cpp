// Goal: the node learns when an actor it cannot do without goes down (the
// first one, with its name and reason), and not when the node stops them on
// purpose after stopping the watchdog.

#include "actors/watchdog.hpp"
#include "tests/support/actor_fixture.hpp"

#include <caf/atom.hpp>

namespace psp::test {
namespace {

class watchdog_test : public actor_fixture {
protected:
  caf::actor idle_actor() {
    return keep(sys.spawn([](caf::event_based_actor*) {
      return caf::behavior{[](caf::ok_atom) {}};
    }));
  }

  std::vector<std::string> downs;
  on_actor_down record = [this](const std::string& name, const caf::error&) {
    downs.push_back(name);
  };
};

TEST_F(watchdog_test, names_the_first_actor_that_went_down) {
  auto card = idle_actor();
  auto store = idle_actor();
  keep(spawn_watchdog(sys, {{"card_network", card}, {"payment_store", store}},
                      record));
  run();
  EXPECT_TRUE(downs.empty());
  caf::anon_send_exit(store, caf::exit_reason::kill);
  run();
  ASSERT_EQ(downs.size(), 1u);
  EXPECT_EQ(downs[0], "payment_store");
  caf::anon_send_exit(card, caf::exit_reason::kill);
  run();
  EXPECT_EQ(downs.size(), 1u) << "the node is stopping already";
}

TEST_F(watchdog_test, stopped_first_it_stays_silent) {
  auto card = idle_actor();
  auto dog = keep(spawn_watchdog(sys, {{"card_network", card}}, record));
  run();
  caf::anon_send_exit(dog, caf::exit_reason::user_shutdown);
  run();
  caf::anon_send_exit(card, caf::exit_reason::user_shutdown);
  run();
  EXPECT_TRUE(downs.empty());
}

} // namespace
} // namespace psp::test
