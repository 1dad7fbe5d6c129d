// Goal: a node that sees Redis lose what it had acknowledged (restored from
// an older backup, emptied, without durability) stops taking requests
// instead of serving from the loss: a session paid since the backup would
// show its form again and be paid twice (decision 62). The operator's views
// say why. A node that was down meanwhile finds the loss against the mark
// its disk kept (decision 67), and only an operator's
// `psp-admin accept-redis-state` lets nodes adopt such a Redis.

#include "tests/support/psp_stack.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace psp::test {
namespace {

namespace fs = std::filesystem;

const form_fields a_session{
  {"mode", "payment"},
  {"success_url", "http://127.0.0.1:9/ok"},
  {"line_items[0][price_data][currency]", "usd"},
  {"line_items[0][price_data][unit_amount]", "1500"},
  {"line_items[0][price_data][product_data][name]", "Tea"},
  {"line_items[0][quantity]", "1"}};

std::string id_of(const json& doc) {
  return doc.at("id").get<std::string>();
}

void pay_and_wait(psp_stack& stack, const std::string& session_id) {
  ASSERT_EQ(stack.pay(session_id).status, 303);
  ASSERT_EQ(stack.wait_for_outcome(session_id)["payment_status"], "paid");
}

/// What /metrics says a gauge is (-1: absent).
long long gauge(psp_stack& stack, size_t node, const std::string& name) {
  auto text = http_get(stack.node_url(node), "/metrics").body;
  auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1
                                 : std::stoll(text.substr(at + name.size() + 2));
}

/// The node answers as a node that stopped taking requests: the API 503
/// with the reason, /healthz 503 naming it, the gauge at 1.
void expect_refusing(psp_stack& stack, size_t node,
                     const std::string& reason_part) {
  auto create = stack.api_post("/v1/checkout/sessions", a_session, node);
  EXPECT_EQ(create.status, 503) << create.body;
  auto message = create.body_json()["error"].value("message", "");
  EXPECT_NE(message.find("stopped taking requests"), std::string::npos)
    << message;
  EXPECT_NE(message.find(reason_part), std::string::npos) << message;
  auto health = http_get(stack.node_url(node), "/healthz");
  EXPECT_EQ(health.status, 503) << health.body;
  EXPECT_EQ(health.body_json().value("status", ""), "redis_state_lost");
  EXPECT_NE(health.body_json().value("redis_error", "").find(reason_part),
            std::string::npos)
    << health.body;
  EXPECT_EQ(gauge(stack, node, "psp_redis_state_lost"), 1);
}

/// psp-admin against the stack's Redis.
process_result admin(psp_stack& stack, std::vector<std::string> args) {
  args.insert(args.begin(),
              {psp_admin_binary(), "--redis", stack.redis_address()});
  return run_to_exit(args, 20s);
}

/// Redis's AOF as it is now (Redis fsyncs before it answers), kept in
/// `backup`; restore_aof puts it back with Redis down.
void copy_aof(psp_stack& stack, const temp_dir& backup) {
  fs::copy(fs::path{stack.redis().dir()} / "appendonlydir",
           fs::path{backup.path()} / "appendonlydir",
           fs::copy_options::recursive);
}

void restore_aof(psp_stack& stack, const temp_dir& backup) {
  auto aof = fs::path{stack.redis().dir()} / "appendonlydir";
  stack.redis().restart_after_kill([&] {
    fs::remove_all(aof);
    fs::copy(fs::path{backup.path()} / "appendonlydir", aof,
             fs::copy_options::recursive);
  });
}

/// The operator's last step: this data set is the one.
void accept_redis_state(psp_stack& stack) {
  auto accepted =
    admin(stack, {"accept-redis-state", "--reason", "restored backup checked"});
  ASSERT_EQ(accepted.exit_code, 0) << accepted.out << accepted.err;
  auto out = json::parse(accepted.out, nullptr, false);
  EXPECT_EQ(out.value("epoch", "").rfind("epoch_", 0), 0u) << accepted.out;
}

TEST(redis_continuity, a_restore_from_an_older_backup_stops_the_node) {
  psp_stack stack;
  auto paid_before = id_of(stack.create_session());
  pay_and_wait(stack, paid_before);
  auto paid_after = id_of(stack.create_session());
  ASSERT_EQ(gauge(stack, 0, "psp_redis_state_lost"), 0);

  temp_dir backup;
  copy_aof(stack, backup);
  // The node's watch moves the sequence past the backup's; then a payment
  // the backup does not hold.
  std::this_thread::sleep_for(std::chrono::milliseconds{2'500});
  pay_and_wait(stack, paid_after);

  restore_aof(stack, backup);
  // Restored, the second session is open again: its form is not offered,
  // not even before the watch's next round (the second re-test paid it
  // twice in that second): every new connection checks first. (The first
  // request may meet a connection Redis's restart closed: asked again.)
  for (int i = 0; i < 20; ++i) {
    auto early = http_get(stack.node_url(), "/pay/" + paid_after);
    ASSERT_EQ(early.body.find("name=\"nonce\""), std::string::npos)
      << "served from the restored data after " << i * 50 << " ms";
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  auto page = http_get(stack.node_url(), "/pay/" + paid_after);
  ASSERT_TRUE(stack.wait_for_log(0, "event=redis_state_lost", 15s));
  auto log = tail_file(stack.node_log(0), 400);
  EXPECT_NE(log.find("action=refusing_requests"), std::string::npos) << log;
  EXPECT_EQ(page.status, 503);
  EXPECT_EQ(page.body.find("<form"), std::string::npos);
  EXPECT_EQ(page.body.find("name=\"nonce\""), std::string::npos);
  expect_refusing(stack, 0, "went back");

  // A restart alone does not make the loss go away (decision 67): the
  // node recorded it in Redis, for every node.
  stack.restart_node(0);
  expect_refusing(stack, 0, "Redis records a loss");
  expect_refusing(stack, 0, "went back");
  auto loss = stack.redis_cmd({"HGET", "psp:redis_state_lost", "node"});
  ASSERT_TRUE(loss);
  EXPECT_EQ(loss->str, "node-0");

  // The operator checked Redis (reconciliation finds the lost payment at the
  // network, end-reopened-sessions ends what it reopened), accepts it, and
  // restarts the node: it adopts Redis as it is.
  accept_redis_state(stack);
  stack.restart_node(0);
  EXPECT_EQ(http_get(stack.node_url(), "/healthz").status, 200);
  EXPECT_EQ(gauge(stack, 0, "psp_redis_state_lost"), 0);
  EXPECT_EQ(stack.api_post("/v1/checkout/sessions", a_session).status, 200);
  EXPECT_TRUE(stack.wait_for_log(0, "event=redis_state_accepted", 5s));
  // Who accepted it and why stays in Redis, and as an operator event.
  auto record = stack.redis_cmd({"HGETALL", "psp:redis_recovery"});
  ASSERT_TRUE(record);
  EXPECT_EQ(record->elements.size(), 14u);
  auto events = http_get(stack.node_url(), "/admin/events?limit=100",
                         stack.admin_token());
  EXPECT_NE(events.body.find("\"admin.accept_redis_state\""),
            std::string::npos)
    << events.body;
  EXPECT_NE(events.body.find("restored backup checked"), std::string::npos)
    << events.body;
}

TEST(redis_continuity, a_node_down_while_redis_was_restored_refuses_it) {
  // The re-test of decision 62: every node stopped, Redis restored from an
  // older backup, the nodes started again adopted it, and a checkout paid
  // since the backup was paid a second time.
  stack_options opts;
  opts.nodes = 2;
  psp_stack stack{opts};
  temp_dir backup;
  copy_aof(stack, backup);
  std::this_thread::sleep_for(std::chrono::milliseconds{2'500});
  auto paid_after = id_of(stack.create_session());
  pay_and_wait(stack, paid_after);

  stack.stop_node(0);
  stack.stop_node(1);
  restore_aof(stack, backup);
  stack.start_node(0);
  // Not a single look at Redis by this node saw the loss happen.
  expect_refusing(stack, 0, "went back");
  expect_refusing(stack, 0, "since this node last ran");
  auto page = http_get(stack.node_url(0), "/pay/" + paid_after);
  EXPECT_EQ(page.body.find("<form"), std::string::npos);

  // The re-test of decision 67: each refused start incremented the
  // sequence, and the 30th restart climbed over the mark and served. A
  // refused start reads only.
  auto sequence = [&] {
    auto reply = stack.redis_cmd({"GET", "psp:redis_sequence"});
    return reply ? reply->str : std::string{};
  };
  auto before = sequence();
  for (int i = 0; i < 6; ++i) {
    stack.restart_node(0);
  }
  EXPECT_EQ(sequence(), before);
  expect_refusing(stack, 0, "since this node last ran");

  // Under --psp.redis-durability=warn (a scratch stack) it is said, and the
  // node goes on from Redis as it is; sharing node 0's data dir (as
  // run.sh's nodes do), it leaves node 0's mark alone, so node 0 still
  // refuses (the re-test: a warn node rewrote the shared mark and every
  // node adopted the loss).
  stack.start_node(1, {"--psp.redis-durability=warn",
                       "--psp.data-dir=" + stack.node_data_dir(0)});
  ASSERT_TRUE(stack.wait_for_log(1, "event=redis_state_lost action=none", 5s));
  EXPECT_EQ(http_get(stack.node_url(1), "/healthz").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds{1'500});
  stack.restart_node(0);
  expect_refusing(stack, 0, "since this node last ran");
  stack.stop_node(1);
  stack.start_node(1);

  accept_redis_state(stack);
  stack.restart_node(0);
  EXPECT_EQ(http_get(stack.node_url(0), "/healthz").status, 200);
  // An acceptance is not a pass for what comes after it: a node running on
  // the accepted data set that sees it go back stops again.
  temp_dir second_backup;
  copy_aof(stack, second_backup);
  std::this_thread::sleep_for(std::chrono::milliseconds{2'500});
  stack.stop_node(0);
  stack.stop_node(1);
  restore_aof(stack, second_backup);
  stack.start_node(0);
  expect_refusing(stack, 0, "since this node last ran");

  // Accepted again and run on; then the backup taken after the first
  // acceptance is restored once more. It carries that acceptance, older
  // than the marks taken since: another data set, not an accepted one (the
  // re-test paid a checkout twice through it).
  accept_redis_state(stack);
  stack.restart_node(0);
  EXPECT_EQ(http_get(stack.node_url(0), "/healthz").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds{1'500});
  stack.stop_node(0);
  restore_aof(stack, second_backup);
  stack.start_node(0);
  expect_refusing(stack, 0, "changed");
}

TEST(redis_continuity, an_emptied_redis_found_at_start_is_not_adopted) {
  psp_stack stack;
  stack.stop_node(0);
  ASSERT_TRUE(stack.redis_cmd({"FLUSHALL"}));
  stack.start_node(0);
  expect_refusing(stack, 0, "emptied");
  // A recorded loss deleted by hand is recorded again by the node that
  // refuses (the second re-test deleted it, and a node with a new data dir
  // then adopted the loss).
  ASSERT_EQ(stack.redis_keys("psp:redis_state_lost").size(), 1u);
  ASSERT_TRUE(stack.redis_cmd({"DEL", "psp:redis_state_lost"}));
  EXPECT_TRUE(wait_until(
    [&] { return !stack.redis_keys("psp:redis_state_lost").empty(); }, 5s));
  // Nothing recreated the marker behind the operator's back: a restart
  // still refuses.
  EXPECT_TRUE(stack.redis_keys("psp:redis_epoch").empty());
  stack.restart_node(0);
  expect_refusing(stack, 0, "emptied");
  // A scratch node (warn) on that data set says so and serves, creating
  // nothing; the next node told to require still refuses.
  stack.stop_node(0);
  stack.start_node(0, {"--psp.redis-durability=warn"});
  ASSERT_TRUE(stack.wait_for_log(0, "event=redis_state_lost action=none", 5s));
  EXPECT_EQ(http_get(stack.node_url(), "/healthz").status, 200);
  EXPECT_TRUE(stack.redis_keys("psp:redis_epoch").empty());
  stack.stop_node(0);
  stack.start_node(0);
  expect_refusing(stack, 0, "emptied");
  // Accepted (the previous epoch is gone with the rest), the node serves:
  // the merchants are gone too, so the key is refused as unknown.
  auto accepted =
    admin(stack, {"accept-redis-state", "--reason", "starting over"});
  ASSERT_EQ(accepted.exit_code, 0) << accepted.err;
  EXPECT_TRUE(json::parse(accepted.out, nullptr, false)["previous_epoch"]
                .is_null())
    << accepted.out;
  // The node still refusing does not undo the acceptance.
  std::this_thread::sleep_for(std::chrono::milliseconds{1'500});
  EXPECT_TRUE(stack.redis_keys("psp:redis_state_lost").empty());
  stack.restart_node(0);
  EXPECT_EQ(http_get(stack.node_url(), "/healthz").status, 200);
  EXPECT_EQ(stack.api_post("/v1/checkout/sessions", a_session).status, 401);
  // Without a reason there is nothing to accept.
  EXPECT_EQ(admin(stack, {"accept-redis-state"}).exit_code, 2);
  EXPECT_EQ(admin(stack, {"accept-redis-state", "--reason", "  "}).exit_code,
            2);
}

TEST(redis_continuity, an_acceptance_while_a_node_runs_locks_out_no_one) {
  // The third re-test: an operator accepted while the nodes still served
  // (they had not seen the loss); each then recorded the new epoch as a
  // loss, and the restarted nodes refused it until a second acceptance.
  psp_stack stack;
  accept_redis_state(stack);
  // The running node sees another epoch: it refuses until restarted...
  ASSERT_TRUE(stack.wait_for_log(0, "event=redis_state_lost", 10s));
  expect_refusing(stack, 0, "changed");
  // ...but records nothing, so the restarted node adopts the accepted set.
  std::this_thread::sleep_for(std::chrono::milliseconds{1'500});
  EXPECT_TRUE(stack.redis_keys("psp:redis_state_lost").empty());
  stack.restart_node(0);
  EXPECT_EQ(http_get(stack.node_url(), "/healthz").status, 200);
  EXPECT_EQ(stack.api_post("/v1/checkout/sessions", a_session).status, 200);
}

TEST(redis_continuity, a_mark_that_cannot_be_read_is_not_taken_for_none) {
  // Written fsynced and renamed, a mark is whole after a crash: one that
  // cannot be read is damage, and the node cannot tell what it saw before.
  psp_stack stack;
  stack.stop_node(0);
  auto mark = stack.node_data_dir(0) + "/redis-continuity.mark";
  ASSERT_TRUE(fs::exists(mark));
  std::ofstream{mark, std::ios::trunc} << "";
  stack.start_node(0);
  expect_refusing(stack, 0, "cannot be read");
  // Nothing about Redis is known to be wrong: no loss is recorded there.
  EXPECT_TRUE(stack.redis_keys("psp:redis_state_lost").empty());
  // The operator checked Redis and removes the file: the node adopts.
  fs::remove(mark);
  stack.restart_node(0);
  EXPECT_EQ(http_get(stack.node_url(), "/healthz").status, 200);
  EXPECT_EQ(gauge(stack, 0, "psp_continuity_mark_unwritable"), 0);
}

TEST(redis_continuity, an_emptied_redis_is_not_served_from) {
  stack_options opts;
  opts.nodes = 2;
  psp_stack stack{opts};
  // A scratch node, told only to warn: it logs the loss and goes on.
  stack.stop_node(1);
  stack.start_node(1, {"--psp.redis-durability=warn"});
  ASSERT_EQ(stack.api_post("/v1/checkout/sessions", a_session, 1).status, 200);

  ASSERT_TRUE(stack.redis_cmd({"FLUSHALL"}));
  ASSERT_TRUE(stack.wait_for_log(0, "event=redis_state_lost", 10s));
  // Not a 401 for a key an emptied Redis forgot: the node says what
  // happened.
  expect_refusing(stack, 0, "emptied");
  ASSERT_TRUE(stack.wait_for_log(1, "event=redis_state_lost action=none", 10s));
  auto served = stack.api_post("/v1/checkout/sessions", a_session, 1);
  EXPECT_EQ(served.body.find("stopped taking requests"), std::string::npos)
    << served.body;
  EXPECT_EQ(http_get(stack.node_url(1), "/healthz").status, 200);
  // Nothing recreated the marker behind the operator's back.
  EXPECT_TRUE(stack.redis_keys("psp:redis_epoch").empty());
}

TEST(redis_continuity, a_redis_back_without_durability_stops_the_node) {
  psp_stack stack;
  ASSERT_EQ(stack.api_post("/v1/checkout/sessions", a_session).status, 200);
  // As a Redis restarted with another configuration: every node connects
  // anew to one that fsyncs once a second.
  ASSERT_TRUE(stack.redis_cmd({"CONFIG", "SET", "appendfsync", "everysec"}));
  ASSERT_TRUE(stack.redis_cmd({"CLIENT", "KILL", "TYPE", "normal"}));
  ASSERT_TRUE(stack.wait_for_log(0, "event=redis_state_lost", 10s));
  expect_refusing(stack, 0, "does not keep what it acknowledges");
  EXPECT_NE(tail_file(stack.node_log(0), 200).find("appendfsync"),
            std::string::npos);
}

TEST(redis_continuity, durability_turned_off_while_redis_runs_is_seen) {
  // No restart, no new connection: the re-test's payment was acknowledged
  // on a Redis that kept nothing. The settings are read every 30 s.
  psp_stack stack;
  // After the watch's first reading on its own connection.
  ASSERT_TRUE(stack.wait_for_log(0, "event=redis_settings_rechecked", 10s));
  ASSERT_TRUE(stack.redis_cmd({"CONFIG", "SET", "appendonly", "no"}));
  std::this_thread::sleep_for(std::chrono::seconds{3});
  EXPECT_EQ(http_get(stack.node_url(), "/healthz").status, 200)
    << "seen before the periodic reading: this test tests nothing";
  ASSERT_TRUE(stack.wait_for_log(0, "event=redis_state_lost", 45s));
  expect_refusing(stack, 0, "appendonly");
}

} // namespace
} // namespace psp::test
