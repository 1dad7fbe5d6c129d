#pragma once

// GoogleTest fixture around CAF's deterministic test coordinator: no threads,
// no sleeps; the test decides when messages run and when time passes.
// (dsl.hpp's expect() aborts the whole binary on a mismatch, so it is not
// used; plain EXPECT_* on recorded effects instead.)

#include "actors/messages.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

namespace psp::test {

class actor_fixture : public ::testing::Test {
public:
  actor_fixture() : sys(init(cfg)), sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
  }

  ~actor_fixture() override {
    for (auto& a : spawned) {
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    }
    sched.run();
  }

  /// Runs every message that is ready, without advancing time.
  size_t run() { return sched.run(); }

  /// Advances virtual time and runs what became ready.
  size_t advance_ms(int64_t ms) {
    sched.advance_time(caf::timespan{std::chrono::milliseconds{ms}});
    return sched.run();
  }

  /// Remembers an actor so the fixture stops it at the end (a cycle of
  /// handles would otherwise keep ~actor_system() waiting forever).
  template <class Handle>
  Handle keep(Handle h) {
    spawned.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  /// Sends `(xs...)` as a request to `dest` from a helper actor and
  /// collects the answer (or the error) into the returned slot.
  template <class Result, class Handle, class... Ts>
  std::shared_ptr<std::optional<caf::expected<Result>>>
  request(const Handle& dest, Ts... xs) {
    auto slot = std::make_shared<std::optional<caf::expected<Result>>>();
    auto asker = sys.spawn([=](caf::event_based_actor* self) -> caf::behavior {
      self->request(dest, caf::infinite, xs...)
        .then([=](Result r) { *slot = caf::expected<Result>{std::move(r)}; },
              [=](caf::error& e) { *slot = caf::expected<Result>{e}; });
      return {[](caf::ok_atom) {}};
    });
    keep(asker);
    return slot;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  std::vector<caf::actor> spawned;

private:
  static caf::actor_system_config& init(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    cfg.add_message_types<caf::id_block::psp>();
    return cfg;
  }
};

} // namespace psp::test
