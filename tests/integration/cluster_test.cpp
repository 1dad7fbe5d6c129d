// Goal: three psp-node processes form a CAF cluster: payments sent to any
// node are processed by the owner of their payment stream partition (four
// partitions each, rendezvous hashing over live members);
// a killed node's in-flight payments are taken over in seconds and a paused
// node is declared dead by missed heartbeats and fenced when it wakes up; no
// payment is lost or charged twice, the ledger balances, and a returning
// node takes work again.

#include "actors/ownership.hpp"
#include "tests/support/psp_stack.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <thread>

namespace psp::test {
namespace {

using clock_type = std::chrono::steady_clock;

const std::vector<std::string> all_nodes{"node-0", "node-1", "node-2"};

stack_options cluster_options() {
  stack_options opts;
  opts.nodes = 3;
  opts.cluster = true;
  opts.reclaim_idle_ms = 30'000; // failover must not rely on idle reclaim
  return opts;
}

/// Every paid session completed, with one charge; the ledger balances.
void expect_all_settled(psp_stack& stack, const std::vector<std::string>& ids,
                        std::chrono::milliseconds timeout) {
  for (auto& cs : ids) {
    if (cs.empty()) {
      continue;
    }
    auto deadline = clock_type::now() + timeout;
    std::string status;
    while (clock_type::now() < deadline) {
      status = stack.redis_hash("cs:" + cs)["status"];
      auto intent = stack.redis_hash("cs:" + cs)["intent"];
      auto pi = stack.redis_hash("pi:" + intent)["status"];
      if (status == "complete" || pi == "requires_payment_method") {
        break;
      }
      std::this_thread::sleep_for(50ms);
    }
    auto intent = stack.redis_hash("cs:" + cs)["intent"];
    auto pi_status = stack.redis_hash("pi:" + intent)["status"];
    if (pi_status == "requires_payment_method") {
      continue; // the card never reached the queue (node killed mid-request)
    }
    EXPECT_EQ(status, "complete") << cs;
    EXPECT_EQ(stack.sim_charge_count(intent), 1) << intent;
  }
  EXPECT_TRUE(stack.ledger_balanced());
  auto counts = stack.sim_charge_counts(); // alive for the whole loop
  for (auto& [ref, count] : counts.items()) {
    EXPECT_LE(count.get<int>(), 1) << "double charge of " << ref;
  }
}

/// A node's command line with HTTP and cluster ports of its own: a second
/// process under the same node id.
std::vector<std::string> on_new_ports(std::vector<std::string> argv) {
  for (auto& arg : argv) {
    if (arg.rfind("--psp.http-port=", 0) == 0) {
      arg = "--psp.http-port=" + std::to_string(free_port());
    } else if (arg.rfind("--psp.cluster-port=", 0) == 0) {
      arg = "--psp.cluster-port=" + std::to_string(free_port());
    }
  }
  return argv;
}

TEST(cluster, payments_are_processed_by_their_owner) {
  psp_stack stack{cluster_options()};
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(stack.wait_for_view(i, all_nodes)) << stack.node_id(i);
  }
  auto owners = partition_owners(all_nodes);
  std::map<std::string, int> partitions_per_node;
  for (auto i : owners) {
    ASSERT_GE(i, 0);
    ++partitions_per_node[all_nodes[i]];
  }
  for (size_t i = 0; i < all_nodes.size(); ++i) {
    EXPECT_EQ(partitions_per_node[all_nodes[i]], 4) << all_nodes[i];
    // /healthz names the partitions the node reads.
    auto health = json::parse(http_get(stack.node_url(i), "/healthz").body);
    EXPECT_EQ(health["cluster"]["partitions"].get<std::vector<uint32_t>>(),
              owned_partitions(all_nodes[i], all_nodes))
      << health.dump();
    EXPECT_EQ(health["cluster"]["quorum"], true) << health.dump();
  }
  auto ids = pay_many(stack, 30, {0, 1, 2});
  expect_all_settled(stack, ids, 20s);
  std::map<std::string, int> per_node;
  for (auto& cs : ids) {
    auto intent = stack.redis_hash("cs:" + cs)["intent"];
    auto by = stack.redis_hash("pi:" + intent)["processed_by"];
    EXPECT_EQ(by, all_nodes[owners[payment_partition(intent)]]) << intent;
    ++per_node[by];
  }
  EXPECT_EQ(per_node.size(), 3u) << "work is spread over all nodes";
}

/// The members node `i` reports on /healthz.
json health_members(psp_stack& stack, size_t i) {
  auto health = stack.api_get("/healthz", i).body_json();
  return health.is_object() && health.contains("cluster")
           ? health["cluster"]["members"]
           : json(nullptr);
}

TEST(cluster, graceful_stop_leaves_no_registration_behind) {
  psp_stack stack{cluster_options()};
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(stack.wait_for_view(i, all_nodes)) << stack.node_id(i);
    EXPECT_EQ(health_members(stack, i), json(all_nodes));
  }
  ASSERT_EQ(stack.redis_keys("cluster:node:node-2").size(), 1u);
  EXPECT_EQ(stack.stop_node(2), 0);
  // Several heartbeat intervals: a membership still ticking after the
  // DEL would have registered the stopped node again by now.
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(stack.redis_keys("cluster:node:node-2").empty());
  // The leave is marked, so peers stop counting it for the quorum at once
  // (a lapsed registration keeps counting for a TTL: cluster/quorum.hpp).
  EXPECT_EQ(stack.redis_keys("cluster:left:node-2").size(), 1u);
  EXPECT_TRUE(stack.wait_for_view(0, {"node-0", "node-1"}));
  EXPECT_EQ(health_members(stack, 0), json({"node-0", "node-1"}));
  // The peers' logs tell a stop on purpose from a crash.
  auto peer_log = tail_file(stack.node_log(0), 200);
  EXPECT_NE(peer_log.find("event=member_left node=node-0 peer=node-2"),
            std::string::npos)
    << peer_log;
  EXPECT_EQ(peer_log.find("event=member_expired node=node-0 peer=node-2"),
            std::string::npos)
    << peer_log;
  // The operator's view of the membership, and a node decommissioned for
  // good forgotten (the scale audit: every id ever used stayed, read by
  // every heartbeat, and no command listed them).
  auto admin = [&](std::vector<std::string> args) {
    args.insert(args.begin(),
                {psp_admin_binary(), "--redis", stack.redis_address()});
    return run_to_exit(args, 20s);
  };
  auto listed = admin({"members"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  auto members = json::parse(listed.out, nullptr, false)["members"];
  ASSERT_EQ(members.size(), 3u) << listed.out;
  EXPECT_EQ(members[0].value("id", ""), "node-0");
  EXPECT_EQ(members[0].value("registered", false), true);
  EXPECT_FALSE(members[0].value("address", "").empty()) << listed.out;
  EXPECT_EQ(members[2].value("id", ""), "node-2");
  EXPECT_EQ(members[2].value("registered", true), false);
  EXPECT_EQ(members[2].value("left", false), true);
  EXPECT_EQ(members[2].value("pending_entries", -1), 0);
  EXPECT_EQ(admin({"forget-node", "--node", "node-0"}).exit_code, 1)
    << "a registered node is not forgotten";
  EXPECT_EQ(admin({"forget-node", "--node", "node-9"}).exit_code, 2);
  auto forgotten = admin({"forget-node", "--node", "node-2"});
  ASSERT_EQ(forgotten.exit_code, 0) << forgotten.err;
  auto after = json::parse(admin({"members"}).out, nullptr, false)["members"];
  EXPECT_EQ(after.size(), 2u) << after.dump();
  for (uint32_t p = 0; p < payment_partitions; ++p) {
    auto consumers = stack.redis_cmd({"XINFO", "CONSUMERS",
                                      "stream:payments:" + std::to_string(p),
                                      "payment-workers"});
    ASSERT_TRUE(consumers);
    for (auto& c : consumers->elements) {
      EXPECT_NE(c.elements.size() > 1 ? c.elements[1].str : "", "node-2");
    }
  }
  // Its next join clears the mark (and lists it again).
  stack.start_node(2);
  EXPECT_TRUE(stack.wait_for_view(0, all_nodes));
  EXPECT_TRUE(stack.redis_keys("cluster:left:node-2").empty());
}

TEST(cluster, kill_minus_nine_takeover_and_rejoin) {
  psp_stack stack{cluster_options()};
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(stack.wait_for_view(i, all_nodes));
  }
  stack.sim_faults({{"latency_ms", 200}}); // keep payments in flight
  std::thread killer([&] {
    std::this_thread::sleep_for(1500ms);
    stack.kill_node(1);
  });
  auto started = clock_type::now();
  auto ids = pay_many(stack, 200, {0, 2}, 16);
  killer.join();
  stack.sim_faults({{"latency_ms", 0}});
  expect_all_settled(stack, ids, 30s);
  auto settled_s = std::chrono::duration<double>(clock_type::now() - started)
                     .count();
  // The survivors' view dropped node-1 and they took its entries over.
  EXPECT_TRUE(stack.wait_for_view(0, {"node-0", "node-2"}, 3s));
  auto peer_log = tail_file(stack.node_log(0), 5000);
  EXPECT_NE(peer_log.find("event=member_down node=node-0 peer=node-1 "
                          "reason=connection_lost"),
            std::string::npos);
  EXPECT_EQ(peer_log.find("event=member_left node=node-0 peer=node-1"),
            std::string::npos)
    << "a crash is not told as a leave";
  // Its registration lapses a TTL after the kill.
  EXPECT_TRUE(stack.wait_for_log(
    0, "event=member_expired node=node-0 peer=node-1", 15s));
  std::cout << "[ measure  ] 200 payments with node-1 killed after 1.5 s "
               "settled in "
            << settled_s << " s" << std::endl;
  stack.start_node(1);
  ASSERT_TRUE(stack.wait_for_view(0, all_nodes));
  auto more = pay_many(stack, 30, {0, 2});
  expect_all_settled(stack, more, 20s);
  int by_returned = 0;
  for (auto& cs : more) {
    auto intent = stack.redis_hash("cs:" + cs)["intent"];
    by_returned += stack.redis_hash("pi:" + intent)["processed_by"] == "node-1";
  }
  EXPECT_GT(by_returned, 0) << "the restarted node takes work again";
}

TEST(cluster, a_node_with_a_live_nodes_id_takes_no_work_before_refused) {
  // The scale audit: a second node-1 (run.sh restart on the old ports)
  // read entries under the live node-1's consumer in the seconds before
  // it was refused; two payments waited 37 s for the idle reclaim and one
  // was committed unfenced.
  psp_stack stack{cluster_options()};
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(stack.wait_for_view(i, all_nodes));
  }
  auto argv = on_new_ports(stack.node_command(1));
  auto dup_log = stack.node_log(1) + ".duplicate";
  child_process duplicate{argv, dup_log};
  // It waits out the live registration (a TTL and a second) while
  // payments flow through every partition.
  auto ids = pay_many(stack, 80, {0, 2}, 8);
  ASSERT_TRUE(wait_until([&] { return !duplicate.running(); }, 20s))
    << tail_file(dup_log, 50);
  EXPECT_NE(tail_file(dup_log, 200).find("registered by another live node"),
            std::string::npos)
    << tail_file(dup_log, 50);
  expect_all_settled(stack, ids, 20s);
  auto log = tail_file(dup_log, 2000);
  EXPECT_EQ(log.find("event=payment_step_committed"), std::string::npos)
    << log;
  EXPECT_EQ(log.find("webhook_claims_released"), std::string::npos) << log;
  for (auto& cs : ids) {
    auto intent = stack.redis_hash("cs:" + cs)["intent"];
    EXPECT_FALSE(stack.redis_hash("pi:" + intent)["processed_by"].empty())
      << intent;
  }
}

TEST(cluster, a_paused_node_whose_id_was_taken_stops_when_it_wakes) {
  // The operator audit: node-2 paused past its TTL, a second node-2 was
  // started (by hand; a process manager does the same), then the first
  // woke. Both served; the stale one read the id's consumer entries only to
  // be fenced at every commit, and 15 payments stayed processing until it
  // was killed.
  psp_stack stack{cluster_options()};
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(stack.wait_for_view(i, all_nodes));
  }
  stack.node_process(2)->signal(SIGSTOP);
  ASSERT_TRUE(stack.wait_for_view(0, {"node-0", "node-1"}, 10s));
  auto argv = on_new_ports(stack.node_command(2));
  auto second_log = stack.node_log(2) + ".second";
  child_process second{argv, second_log};
  ASSERT_TRUE(stack.wait_for_view(0, all_nodes, 15s))
    << tail_file(second_log, 50);
  auto registration = stack.redis_cmd({"GET", "cluster:node:node-2"});
  ASSERT_TRUE(registration && !registration->str.empty());

  stack.node_process(2)->signal(SIGCONT);
  ASSERT_TRUE(wait_until([&] { return !stack.node_process(2)->running(); },
                         10s))
    << tail_file(stack.node_log(2), 50);
  EXPECT_EQ(stack.node_process(2)->exit_code(), std::optional<int>{5})
    << "as a duplicate id at start";
  EXPECT_NE(tail_file(stack.node_log(2), 400).find("event=node_id_taken"),
            std::string::npos)
    << tail_file(stack.node_log(2), 50);
  // Stopping, it left the other's registration in place.
  EXPECT_TRUE(second.running());
  auto kept = stack.redis_cmd({"GET", "cluster:node:node-2"});
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->str, registration->str);
  // And the cluster pays, each payment once, node-2's partitions included.
  auto ids = pay_many(stack, 40, {0, 1}, 8);
  expect_all_settled(stack, ids, 20s);
}

TEST(cluster, the_dead_are_taken_over_once_the_quorum_is_back) {
  // The scale audit: with two of three killed at once the survivor loses
  // the quorum until their registrations lapse; its take-over rounds ran
  // meanwhile and did nothing, and the dead nodes' payments waited for the
  // 30 s idle reclaim.
  psp_stack stack{cluster_options()};
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(stack.wait_for_view(i, all_nodes));
  }
  stack.sim_faults({{"latency_ms", 3'000}}); // payments in flight everywhere
  std::thread killer([&] {
    std::this_thread::sleep_for(1500ms);
    stack.kill_node(1);
    stack.kill_node(2);
  });
  auto started = clock_type::now();
  auto ids = pay_many(stack, 40, {0}, 16);
  killer.join();
  stack.sim_faults({{"latency_ms", 0}});
  ASSERT_TRUE(stack.wait_for_log(0, "event=quorum_lost node=node-0", 5s));
  // Meanwhile the node says it takes no payment work (it listed all twelve
  // partitions, as read, before).
  auto health = json::parse(http_get(stack.node_url(0), "/healthz").body,
                            nullptr, false);
  EXPECT_EQ(health["cluster"]["quorum"], false) << health.dump();
  EXPECT_EQ(health["cluster"]["partitions"], json::array()) << health.dump();
  EXPECT_NE(http_get(stack.node_url(0), "/metrics")
              .body.find("\npsp_cluster_quorum 0\n"),
            std::string::npos);
  // The registrations lapse (a TTL), the absentees stop counting (one more):
  // then the entries are taken, well before the 30 s idle reclaim.
  expect_all_settled(stack, ids, 20s);
  auto settled_s = std::chrono::duration<double>(clock_type::now() - started)
                     .count();
  EXPECT_LT(settled_s, 25.0);
  auto log = tail_file(stack.node_log(0), 5000);
  EXPECT_NE(log.find("event=quorum_regained node=node-0"), std::string::npos);
  EXPECT_EQ(log.find("payments_reclaimed"), std::string::npos)
    << "taken over, not left to the idle reclaim";
  std::cout << "[ measure  ] two of three killed: settled in " << settled_s
            << " s" << std::endl;
}

/// How many webhook deliveries each node has claimed and not yet recorded.
std::map<std::string, int> claims_by_node(psp_stack& stack) {
  std::map<std::string, int> out;
  for (auto& [delivery, node] : stack.redis_hash("webhooks:claims")) {
    ++out[node];
  }
  return out;
}

TEST(cluster, a_killed_nodes_webhook_claims_go_out_again_at_once) {
  auto opts = cluster_options();
  opts.store = true;
  // The default lease: without the release the deliveries node-1 claimed
  // would wait a minute, far beyond the waits below.
  opts.node_args = {"--psp.webhook-lease-ms=60000",
                    "--psp.webhook-timeout-ms=10000"};
  psp_stack stack{opts};
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(stack.wait_for_view(i, all_nodes));
  }
  // The store holds each webhook 3 s (then fails it), so every node has
  // deliveries claimed and in flight when node-1 dies.
  ASSERT_EQ(stack.store_faults({{"fail_all", true}, {"delay_ms", 3000}})
              .status,
            200);
  auto ids = pay_many(stack, 30, {0, 1, 2});
  // Every node claims whatever is due when it polls, so which one holds
  // claims is up to timing: the victim is node-1 or node-2, whichever does.
  size_t victim = 0;
  int held = 0;
  ASSERT_TRUE(wait_until(
    [&] {
      auto claims = claims_by_node(stack);
      for (size_t i : {1, 2}) {
        if (claims[all_nodes[i]] > held) {
          victim = i;
          held = claims[all_nodes[i]];
        }
      }
      return held > 0;
    },
    10s))
    << "neither node-1 nor node-2 claimed a delivery";
  auto gone = all_nodes[victim];
  held = claims_by_node(stack)[gone];
  stack.kill_node(victim);
  ASSERT_EQ(stack.store_faults({{"fail_all", false}}).status, 200);
  auto killed_at = clock_type::now();
  ASSERT_TRUE(
    stack.wait_for_view(0, {"node-0", all_nodes[victim == 1 ? 2 : 1]}, 5s));
  expect_all_settled(stack, ids, 20s);
  EXPECT_TRUE(wait_until(
    [&] { return stack.all_webhooks_delivered(); }, 20s))
    << "webhooks still waiting (" << gone << " held " << held << " claims)";
  auto delivered_s =
    std::chrono::duration<double>(clock_type::now() - killed_at).count();
  std::cout << "[ measure  ] " << held << " deliveries claimed by the killed "
            << gone << ", all delivered " << delivered_s
            << " s after the kill" << std::endl;
  EXPECT_EQ(claims_by_node(stack).count(gone), 0u);
  auto released = "webhook_claims_released node=" + gone;
  EXPECT_TRUE(wait_until(
    [&] {
      for (size_t i = 0; i < 3; ++i) {
        if (i != victim &&
            tail_file(stack.node_log(i), 400).find(released)
              != std::string::npos) {
          return true;
        }
      }
      return false;
    },
    5s));
}

TEST(cluster, paused_node_is_declared_dead_and_fenced) {
  psp_stack stack{cluster_options()};
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(stack.wait_for_view(i, all_nodes));
  }
  stack.sim_faults({{"latency_ms", 200}});
  std::atomic<bool> paused{false};
  clock_type::time_point paused_at;
  std::thread pauser([&] {
    std::this_thread::sleep_for(1000ms);
    paused_at = clock_type::now();
    stack.node_process(2)->signal(SIGSTOP);
    paused = true;
  });
  auto ids = pay_many(stack, 120, {0, 1}, 12);
  pauser.join();
  ASSERT_TRUE(stack.wait_for_view(0, {"node-0", "node-1"}, 5s));
  auto declared_s = std::chrono::duration<double>(clock_type::now() - paused_at)
                      .count();
  std::cout << "[ measure  ] paused node-2 declared dead after <= " << declared_s
            << " s" << std::endl;
  EXPECT_LE(declared_s, 3.0);
  stack.sim_faults({{"latency_ms", 0}});
  expect_all_settled(stack, ids, 30s); // while node-2 is still stopped
  stack.node_process(2)->signal(SIGCONT);
  ASSERT_TRUE(stack.wait_for_view(0, all_nodes, 10s));
  // It noticed it had been declared dead and joined under a new epoch,
  // which fences whatever it started before the pause.
  EXPECT_TRUE(wait_until(
    [&] {
      return tail_file(stack.node_log(2), 400).find("rejoined node=node-2")
             != std::string::npos;
    },
    5s));
  // Whatever node-2 had in flight when it froze was fenced, not committed
  // twice: one charge each, one ledger transaction each, balanced.
  expect_all_settled(stack, ids, 10s);
  auto txns = stack.redis_len("ledger:transactions");
  size_t completed = 0;
  for (auto& cs : ids) {
    completed += !cs.empty() && stack.redis_hash("cs:" + cs)["status"] == "complete";
  }
  EXPECT_EQ(static_cast<size_t>(txns), completed);
}

} // namespace
} // namespace psp::test
