// Goal: while Redis stalls, a node keeps at most one heartbeat in flight,
// so when Redis answers again and the registration is gone it joins once,
// not once per queued heartbeat (each join fences the one before it, and
// commits of the moment fail). Deterministic: CAF's test coordinator and a
// registry that answers heartbeats only when the test says so.

#include "actors/payment_queue.hpp"
#include "cluster/membership.hpp"
#include "tests/support/actor_fixture.hpp"

#include <caf/response_promise.hpp>

namespace psp::test {
namespace {

struct registry_log {
  std::vector<caf::response_promise> held_beats;
  std::vector<std::string> beat_registrations;
  int joins = 0;
};

using answer_beats_atom = caf::atom_constant<caf::atom("ansbeats")>;

/// Heartbeats wait until `(answer_beats_atom, alive)`; joins answer a new
/// registration at once; the member list is the node alone.
caf::actor spawn_stalling_registry(caf::actor_system& sys,
                                   std::shared_ptr<registry_log> log) {
  return sys.spawn([log](caf::event_based_actor* self) -> caf::behavior {
    return {
      [=](join_atom, std::string&, std::string&) {
        return "reg-" + std::to_string(++log->joins);
      },
      [=](beat_atom, std::string&, std::string& registration) {
        log->beat_registrations.push_back(registration);
        // Taking the promise answers later (as Redis would after a stall).
        log->held_beats.push_back(self->make_response_promise());
      },
      [=](members_atom) {
        std::vector<member_info> alone;
        alone.push_back(member_info{"node-1", "127.0.0.1:1", false});
        return alone;
      },
      [=](answer_beats_atom, bool alive) {
        auto held = std::move(log->held_beats);
        log->held_beats.clear();
        for (auto& p : held) {
          p.deliver(alive);
        }
      },
    };
  });
}

/// Router and queue stand-ins: take whatever the membership tells them.
/// (caf::drop would answer each with an error, which ends the sender.)
caf::actor spawn_sink(caf::actor_system& sys) {
  return sys.spawn([](caf::event_based_actor*) -> caf::behavior {
    return {
      [](fence_atom, const std::string&, const std::string&) {},
      [](fence_atom) {},
      [](quorum_atom, bool) {},
      [](view_atom, const cluster_view&) {},
    };
  });
}

class membership_stall : public actor_fixture {};

TEST_F(membership_stall, queued_heartbeats_after_a_stall_lead_to_one_join) {
  auto log = std::make_shared<registry_log>();
  auto registry = keep(spawn_stalling_registry(sys, log));
  membership_settings cfg;
  cfg.node_id = "node-1";
  cfg.cluster_address = "127.0.0.1:1";
  cfg.heartbeat_interval_ms = 500;
  cfg.request_timeout_ms = 2'000;
  keep(spawn_membership(sys, cfg,
                        caf::actor_cast<cluster_registry>(registry),
                        keep(spawn_sink(sys)), keep(spawn_sink(sys)),
                        "reg-0"));
  run();
  // Redis stalls: three more ticks, no heartbeat answered.
  for (int i = 0; i < 3; ++i) {
    advance_ms(500);
  }
  EXPECT_EQ(log->beat_registrations.size(), 1u)
    << "one heartbeat in flight at a time";
  // Redis is back and the registration expired meanwhile.
  caf::anon_send(registry, answer_beats_atom::value, false);
  run();
  EXPECT_EQ(log->joins, 1);
  // The next heartbeats carry the new registration and find it alive.
  advance_ms(500);
  ASSERT_FALSE(log->beat_registrations.empty());
  EXPECT_EQ(log->beat_registrations.back(), "reg-1");
  caf::anon_send(registry, answer_beats_atom::value, true);
  advance_ms(500);
  caf::anon_send(registry, answer_beats_atom::value, true);
  run();
  EXPECT_EQ(log->joins, 1);
}

} // namespace
} // namespace psp::test
