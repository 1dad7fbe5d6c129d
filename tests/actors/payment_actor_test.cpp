// Goal: the payment actor's state machine, run deterministically: one charge
// per attempt, retries with backoff on unknown outcomes, a decline is final,
// redeliveries of finished steps do nothing, exhausted retries are buried.

#include "actors/dead_letter.hpp"
#include "actors/payment_actor.hpp"
#include "actors/payment_logic.hpp"
#include "actors/payment_router.hpp"
#include "tests/actors/fakes.hpp"
#include "tests/support/actor_fixture.hpp"

#include <algorithm>

namespace psp::test {
namespace {

class payment_actor_test : public actor_fixture {
public:
  payment_actor_test() : world(std::make_shared<fake_world>()) {
    store = keep(spawn_fake_store(sys, world));
    network = keep(spawn_fake_network(sys, world));
    dead = keep(spawn_dead_letter(sys, store));
    limits.network_tries_max = 4;
    limits.commit_tries_max = 3;
    limits.backoff_base_ms = 100;
    limits.backoff_max_ms = 1'000;
    limits.idle_ms = 60'000;
    limits.rng_seed = 7;
  }

  caf::actor spawn_payment() {
    return keep(spawn_payment_actor(sys, "pi_P1",
                                    {store, network, dead, caf::actor{}},
                                    limits));
  }

  world_ptr world;
  payment_store store;
  card_network network;
  caf::actor dead;
  payment_limits limits;
};

TEST_F(payment_actor_test, approved_charge_commits_balanced_postings_once) {
  auto payment = spawn_payment();
  auto reply = request<bool>(payment, process_atom::value, sample_job());
  run();
  ASSERT_TRUE(reply->has_value() && **reply);
  EXPECT_TRUE(***reply);
  ASSERT_EQ(world->charges.size(), 1u);
  EXPECT_EQ(world->charges[0].attempt_id, "pa_A1");
  ASSERT_EQ(world->commits.size(), 1u);
  auto& c = world->commits[0];
  EXPECT_EQ(c.charge.outcome, charge_outcome::approved);
  EXPECT_EQ(c.fee_minor, 88); // 2.9 % of 2000 = 58, + 30
  EXPECT_TRUE(postings_balanced(c.postings));
  ASSERT_EQ(c.events.size(), 2u);
  EXPECT_EQ(c.events[0].type, "payment_intent.succeeded");
  EXPECT_EQ(c.events[1].type, "checkout.session.completed");
  EXPECT_TRUE(world->loads.empty()) << "a first delivery needs no reload";
}

TEST_F(payment_actor_test, decline_is_final_and_not_retried) {
  world->network_script = {declined("insufficient_funds")};
  auto payment = spawn_payment();
  auto reply = request<bool>(payment, process_atom::value, sample_job());
  run();
  advance_ms(10'000);
  ASSERT_TRUE(reply->has_value());
  EXPECT_EQ(world->charges.size(), 1u);
  ASSERT_EQ(world->commits.size(), 1u);
  EXPECT_EQ(world->commits[0].charge.decline_code, "insufficient_funds");
  EXPECT_TRUE(world->commits[0].postings.empty());
  ASSERT_EQ(world->commits[0].events.size(), 1u);
  EXPECT_EQ(world->commits[0].events[0].type,
            "payment_intent.payment_failed");
}

TEST_F(payment_actor_test, unknown_outcomes_are_retried_with_the_same_key) {
  world->network_script = {unknown_outcome(), unknown_outcome()};
  auto payment = spawn_payment();
  auto reply = request<bool>(payment, process_atom::value, sample_job());
  run();
  EXPECT_EQ(world->charges.size(), 1u);
  EXPECT_FALSE(reply->has_value()) << "no answer while retrying";
  advance_ms(1'000); // past the first backoff (at most 100 ms)
  EXPECT_EQ(world->charges.size(), 2u);
  advance_ms(1'000); // past the second (at most 200 ms)
  ASSERT_EQ(world->charges.size(), 3u);
  for (auto& c : world->charges) {
    EXPECT_EQ(c.attempt_id, "pa_A1");
    EXPECT_EQ(c.idempotency_key, "pa_A1") << "every retry reuses the key";
  }
  EXPECT_EQ(world->commits.size(), 1u);
  ASSERT_TRUE(reply->has_value());
  EXPECT_TRUE(***reply);
}

TEST_F(payment_actor_test, exhausted_retries_go_to_the_dead_letter_stream) {
  for (int i = 0; i < 10; ++i) {
    world->network_script.push_back(unknown_outcome());
  }
  auto payment = spawn_payment();
  auto reply = request<bool>(payment, process_atom::value, sample_job());
  run();
  for (int i = 0; i < 10; ++i) {
    advance_ms(1'000);
  }
  EXPECT_EQ(world->charges.size(), limits.network_tries_max);
  EXPECT_TRUE(world->commits.empty());
  ASSERT_EQ(world->buried.size(), 1u);
  EXPECT_EQ(world->buried[0].kind, "payment");
  EXPECT_EQ(world->buried[0].ref, "pa_A1");
  EXPECT_EQ(world->buried[0].entry_id, "1-0");
  ASSERT_TRUE(reply->has_value());
  EXPECT_TRUE(***reply);
}

TEST_F(payment_actor_test, a_page_attempt_is_named_by_its_session_and_ordinal) {
  // What a lost attempt and the one paid after the loss share (decision 70).
  auto job = sample_job("pa_A1");
  job.page_ordinal = 3;
  auto payment = spawn_payment();
  auto reply = request<bool>(payment, process_atom::value, job);
  run();
  ASSERT_EQ(world->charges.size(), 1u);
  EXPECT_EQ(world->charges[0].idempotency_key, "cs_test_S1:page_attempt:3");
  EXPECT_EQ(world->charges[0].attempt_id, "pa_A1");
  // A capture of that payment keeps its own op id.
  job.op = payment_op::capture;
  EXPECT_EQ(network_idempotency_key(job), "pa_A1");
}

TEST_F(payment_actor_test, a_page_attempt_whose_key_is_taken_closes_its_page) {
  charge_result taken = declined("duplicate_transaction");
  taken.key_conflict = true;
  world->network_script = {taken};
  auto job = sample_job();
  job.page_ordinal = 1;
  auto payment = spawn_payment();
  auto reply = request<bool>(payment, process_atom::value, job);
  run();
  advance_ms(10'000);
  EXPECT_EQ(world->charges.size(), 1u);
  EXPECT_TRUE(world->buried.empty());
  ASSERT_EQ(world->commits.size(), 1u);
  auto& updates = world->commits[0].updates;
  auto closed = std::find_if(updates.begin(), updates.end(), [](auto& u) {
    return u.record == "intent" && u.field == "page_closed";
  });
  ASSERT_NE(closed, updates.end()) << "a new card would be a second payment";
  EXPECT_EQ(closed->value, "duplicate_transaction");
  ASSERT_TRUE(reply->has_value());
}

TEST_F(payment_actor_test, a_follow_up_whose_key_is_taken_is_buried_at_once) {
  charge_result taken = unknown_outcome();
  taken.key_conflict = true;
  world->network_script = {taken, taken, taken, taken};
  auto job = sample_job("cap_A1");
  job.op = payment_op::capture;
  job.network_ref = "ch_1";
  auto payment = spawn_payment();
  auto reply = request<bool>(payment, process_atom::value, job);
  run();
  advance_ms(10'000);
  EXPECT_EQ(world->charges.size(), 1u) << "asking again cannot help";
  EXPECT_TRUE(world->commits.empty());
  ASSERT_EQ(world->buried.size(), 1u);
  EXPECT_NE(world->buried[0].reason.find("key cap_A1"), std::string::npos)
    << world->buried[0].reason;
  EXPECT_NE(world->buried[0].reason.find("not retried"), std::string::npos);
  ASSERT_TRUE(reply->has_value());
}

TEST_F(payment_actor_test, redelivered_finished_step_is_only_acknowledged) {
  world->load_answer = attempt_status::final;
  auto payment = spawn_payment();
  auto reply = request<bool>(payment, process_atom::value, sample_job("pa_A1", 2));
  run();
  EXPECT_EQ(world->loads.size(), 1u);
  EXPECT_TRUE(world->charges.empty());
  EXPECT_TRUE(world->commits.empty());
  ASSERT_EQ(world->acks.size(), 1u);
  EXPECT_EQ(world->acks[0], "1-0");
  ASSERT_TRUE(reply->has_value());
}

TEST_F(payment_actor_test, redelivered_pending_step_is_charged_again) {
  world->load_answer = attempt_status::pending;
  auto payment = spawn_payment();
  request<bool>(payment, process_atom::value, sample_job("pa_A1", 3));
  run();
  EXPECT_EQ(world->charges.size(), 1u);
  EXPECT_EQ(world->commits.size(), 1u);
}

TEST_F(payment_actor_test, duplicate_job_in_flight_shares_one_charge) {
  world->network_script = {unknown_outcome()};
  auto payment = spawn_payment();
  auto first = request<bool>(payment, process_atom::value, sample_job());
  run();
  auto second = request<bool>(payment, process_atom::value, sample_job());
  run();
  advance_ms(1'000);
  EXPECT_EQ(world->charges.size(), 2u); // first try + one retry, no extra
  EXPECT_EQ(world->commits.size(), 1u);
  ASSERT_TRUE(first->has_value());
  ASSERT_TRUE(second->has_value());
}

TEST_F(payment_actor_test, failed_commit_is_retried_without_charging_again) {
  world->commit_failures_left = 2;
  auto payment = spawn_payment();
  auto reply = request<bool>(payment, process_atom::value, sample_job());
  run();
  advance_ms(1'000);
  advance_ms(1'000);
  EXPECT_EQ(world->charges.size(), 1u);
  EXPECT_EQ(world->commits.size(), 1u);
  ASSERT_TRUE(reply->has_value());
  EXPECT_TRUE(***reply);
}

TEST_F(payment_actor_test, commit_that_keeps_failing_leaves_entry_pending) {
  world->commit_failures_left = 100;
  auto payment = spawn_payment();
  auto reply = request<bool>(payment, process_atom::value, sample_job());
  run();
  for (int i = 0; i < 5; ++i) {
    advance_ms(1'000);
  }
  EXPECT_TRUE(world->acks.empty());
  EXPECT_TRUE(world->buried.empty());
  ASSERT_TRUE(reply->has_value());
  EXPECT_FALSE(***reply) << "false: not acknowledged, will be redelivered";
}

TEST_F(payment_actor_test, fenced_step_commits_under_the_token_it_is_redelivered_with) {
  // The node lost its registration mid-step (commits under the old token
  // are refused), joined again and claimed its own entry back: the
  // redelivery carries the new token and the step commits under it, with
  // no second charge.
  world->fenced_token = "old";
  auto job = sample_job();
  job.fence_node = "node-1";
  job.fence_token = "old";
  auto payment = spawn_payment();
  auto first = request<bool>(payment, process_atom::value, job);
  run();
  EXPECT_TRUE(world->commits.empty());
  job.fence_token = "new";
  job.delivery_count = 2;
  auto again = request<bool>(payment, process_atom::value, job);
  run();
  advance_ms(1'000);
  advance_ms(1'000);
  EXPECT_EQ(world->charges.size(), 1u);
  ASSERT_EQ(world->commits.size(), 1u);
  EXPECT_EQ(world->commits[0].job.fence_token, "new");
  ASSERT_TRUE(first->has_value() && again->has_value());
  EXPECT_TRUE(***first);
  EXPECT_TRUE(***again);
}

TEST_F(payment_actor_test, a_second_attempt_waits_for_the_first) {
  world->network_script = {declined("card_declined")};
  auto payment = spawn_payment();
  auto first = request<bool>(payment, process_atom::value, sample_job("pa_A1"));
  auto second = request<bool>(payment, process_atom::value,
                              sample_job("pa_A2"));
  run();
  ASSERT_EQ(world->commits.size(), 2u);
  EXPECT_EQ(world->commits[0].job.attempt_id, "pa_A1");
  EXPECT_EQ(world->commits[1].job.attempt_id, "pa_A2");
  EXPECT_EQ(world->commits[1].charge.outcome, charge_outcome::approved);
}

TEST_F(payment_actor_test, idle_actor_passivates) {
  limits.idle_ms = 5'000;
  auto payment = spawn_payment();
  request<bool>(payment, process_atom::value, sample_job());
  run();
  auto down = std::make_shared<bool>(false);
  keep(sys.spawn([=](caf::event_based_actor* self) -> caf::behavior {
    self->monitor(payment);
    self->set_down_handler([=](const caf::down_msg&) { *down = true; });
    return {[](caf::ok_atom) {}};
  }));
  run();
  EXPECT_FALSE(*down);
  advance_ms(6'000);
  EXPECT_TRUE(*down);
}

TEST_F(payment_actor_test, the_router_keeps_nothing_of_finished_payments) {
  // Each payment gets an actor; once it has finished and passivated, the
  // router holds no trace of it (a crash history made for every payment
  // grew a node by ~0.7 KB a payment, for good).
  limits.idle_ms = 1'000;
  auto router = keep(spawn_payment_router(
    sys, {store, network, dead, caf::actor{}}, limits, supervisor_limits{}));
  for (int i = 0; i < 20; ++i) {
    auto job = sample_job();
    job.intent_id = "pi_R" + std::to_string(i);
    job.attempt_id = "pa_R" + std::to_string(i);
    request<bool>(router, process_atom::value, job);
  }
  run();
  ASSERT_EQ(world->commits.size(), 20u);
  auto live = request<uint64_t>(router, stats_atom::value);
  auto tracked = request<uint64_t>(router, stats_atom::value, dead_atom::value);
  run();
  ASSERT_TRUE(live->has_value() && **live);
  EXPECT_EQ(***live, 20u) << "each payment's actor lingers until idle";
  ASSERT_TRUE(tracked->has_value() && **tracked);
  EXPECT_EQ(***tracked, 0u) << "no payment crashed";
  advance_ms(2'000);
  live = request<uint64_t>(router, stats_atom::value);
  tracked = request<uint64_t>(router, stats_atom::value, dead_atom::value);
  run();
  EXPECT_EQ(***live, 0u);
  EXPECT_EQ(***tracked, 0u);
}

} // namespace
} // namespace psp::test
