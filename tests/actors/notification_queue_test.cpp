// Goal: the notification queue hands due deliveries to the sender and
// records each outcome: delivered, the next try per the schedule, or dead.

#include "actors/notification_queue.hpp"
#include "tests/actors/fakes.hpp"
#include "tests/support/actor_fixture.hpp"

namespace psp::test {
namespace {

int64_t fixed_now_ms() {
  return 1'000'000;
}

webhook_delivery delivery(std::string id, uint32_t attempts_before) {
  webhook_delivery d;
  d.delivery_id = std::move(id);
  d.event_id = "evt_1";
  d.url = "http://127.0.0.1:1/hook";
  d.secret = "whsec_x";
  d.body = "{}";
  d.attempts_before = attempts_before;
  return d;
}

class notification_queue_test : public actor_fixture {
public:
  notification_queue_test() : world(std::make_shared<fake_world>()) {
  }

  caf::actor spawn_queue(uint32_t record_retry_window_ms = 30'000) {
    notification_limits limits;
    limits.record_retry_window_ms = record_retry_window_ms;
    limits.schedule_ms = {0, 5'000, 60'000};
    return keep(spawn_notification_queue(
      sys, keep(spawn_fake_deliveries(sys, world)),
      keep(spawn_fake_sender(sys, world)), limits, "node-a", fixed_now_ms));
  }

  world_ptr world;
};

TEST_F(notification_queue_test, delivered_on_first_try) {
  world->due_script = {{delivery("d1", 0)}};
  spawn_queue();
  run();
  ASSERT_EQ(world->sent.size(), 1u);
  ASSERT_EQ(world->reports.size(), 1u);
  EXPECT_TRUE(world->reports[0].delivered);
  EXPECT_EQ(world->reports[0].attempts, 1u);
}

TEST_F(notification_queue_test, failure_is_rescheduled_per_schedule) {
  world->due_script = {{delivery("d1", 0)}};
  world->send_script = {delivery_attempt{false, 500, ""}};
  spawn_queue();
  run();
  ASSERT_EQ(world->reports.size(), 1u);
  auto& rep = world->reports[0];
  EXPECT_FALSE(rep.delivered);
  EXPECT_EQ(rep.attempts, 1u);
  EXPECT_EQ(rep.next_attempt_ms, fixed_now_ms() + 5'000);
  EXPECT_EQ(rep.last_error, "HTTP 500");
}

TEST_F(notification_queue_test, last_failure_goes_to_the_dead_letter_stream) {
  world->due_script = {{delivery("d1", 2)}};
  world->send_script = {delivery_attempt{false, 0, "timeout"}};
  spawn_queue();
  run();
  ASSERT_EQ(world->reports.size(), 1u);
  EXPECT_FALSE(world->reports[0].delivered);
  EXPECT_EQ(world->reports[0].next_attempt_ms, -1);
  EXPECT_EQ(world->reports[0].last_error, "timeout");
}

TEST_F(notification_queue_test, an_outcome_whose_record_failed_is_recorded_later) {
  // Redis away for three record calls: the delivered outcome is kept and
  // recorded when it is back, so the webhook is neither sent again nor
  // left waiting out its claim.
  world->due_script = {{delivery("d1", 0)}};
  world->record_failures_left = 3;
  spawn_queue();
  run();
  EXPECT_TRUE(world->reports.empty());
  for (int64_t step_ms : {100, 200}) {
    advance_ms(step_ms);
    EXPECT_TRUE(world->reports.empty());
  }
  advance_ms(400);
  ASSERT_EQ(world->reports.size(), 1u);
  EXPECT_TRUE(world->reports[0].delivered);
  EXPECT_EQ(world->reports[0].delivery_id, "d1");
  EXPECT_EQ(world->sent.size(), 1u);
  EXPECT_EQ(world->record_calls, 4);
}

TEST_F(notification_queue_test, records_are_given_up_after_the_window) {
  world->due_script = {{delivery("d1", 0)}};
  world->record_failures_left = 1'000;
  spawn_queue(1'000);
  run();
  for (int i = 0; i < 20; ++i) {
    advance_ms(2'000);
  }
  // 100 + 200 + 400 + 800 ms spent: the fifth failure gives up.
  EXPECT_EQ(world->record_calls, 5);
  EXPECT_TRUE(world->reports.empty());
  EXPECT_EQ(world->sent.size(), 1u) << "nothing sent again by this node";
}

TEST_F(notification_queue_test, frees_its_previous_lifes_claims_and_a_departed_nodes) {
  auto queue = spawn_queue();
  run();
  ASSERT_EQ(world->released, std::vector<std::string>{"node-a"});
  caf::anon_send(queue, release_atom::value, std::string{"node-b"});
  run();
  EXPECT_EQ(world->released, (std::vector<std::string>{"node-a", "node-b"}));
}

TEST_F(notification_queue_test, polls_again_on_its_interval) {
  auto queue = spawn_queue();
  run();
  EXPECT_TRUE(world->sent.empty());
  world->due_script = {{delivery("d2", 0)}};
  advance_ms(300);
  EXPECT_EQ(world->sent.size(), 1u);
  caf::anon_send(queue, poll_atom::value);
  run();
}

} // namespace
} // namespace psp::test
