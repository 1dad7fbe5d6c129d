// Goal: a node cut off from its peers (a TCP proxy on the cluster ports ends
// its connections) but not from Redis loses the quorum and stops taking
// payment work, while the two others process every payment, including those
// sent to the cut node's HTTP adapter and those it held when it was cut;
// after the heal the views converge and it takes work again. No payment is
// lost or charged twice and the ledger balances.

#include "tests/support/partition_proxy.hpp"
#include "tests/support/psp_stack.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace psp::test {
namespace {

using clock_type = std::chrono::steady_clock;

const std::vector<std::string> all_nodes{"node-0", "node-1", "node-2"};

std::string intent_of(psp_stack& stack, const std::string& cs) {
  return stack.redis_hash("cs:" + cs)["intent"];
}

/// Every session completes with exactly one capture at the network.
void expect_all_complete(psp_stack& stack, const std::vector<std::string>& ids,
                         std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (auto& cs : ids) {
    ASSERT_FALSE(cs.empty()) << "a checkout failed to start";
    wait_until(
      [&] {
        return stack.redis_hash("cs:" + cs)["status"] == "complete";
      },
      std::max(std::chrono::milliseconds{0},
               std::chrono::duration_cast<std::chrono::milliseconds>(
                 deadline - clock_type::now())),
      50ms);
    EXPECT_EQ(stack.redis_hash("cs:" + cs)["status"], "complete") << cs;
    EXPECT_EQ(stack.sim_charge_count(intent_of(stack, cs)), 1) << cs;
  }
}

uint16_t cluster_port_of(const psp_stack& stack, size_t i) {
  const std::string flag = "--psp.cluster-port=";
  for (auto& arg : stack.node_command(i)) {
    if (arg.rfind(flag, 0) == 0) {
      return static_cast<uint16_t>(std::stoi(arg.substr(flag.size())));
    }
  }
  return 0;
}

/// True once node `i`'s log, after byte `offset`, holds `text`.
bool log_shows(const psp_stack& stack, size_t i, size_t offset,
               const std::string& text, std::chrono::milliseconds timeout) {
  return wait_until(
    [&] {
      std::ifstream in{stack.node_log(i)};
      std::stringstream all;
      all << in.rdbuf();
      auto s = all.str();
      return s.size() > offset && s.find(text, offset) != std::string::npos;
    },
    timeout, 50ms);
}

/// Entries node `i` logged as taken over from `from` after byte `offset`.
int taken_over(const psp_stack& stack, size_t i, size_t offset,
               const std::string& from) {
  std::ifstream in{stack.node_log(i)};
  in.seekg(static_cast<std::streamoff>(offset));
  std::string line;
  const std::string key = "event=payments_taken_over from=" + from + " count=";
  int total = 0;
  while (std::getline(in, line)) {
    auto pos = line.find(key);
    if (pos != std::string::npos) {
      total += std::atoi(line.c_str() + pos + key.size());
    }
  }
  return total;
}

size_t log_size(const psp_stack& stack, size_t i) {
  std::ifstream in{stack.node_log(i), std::ios::ate | std::ios::binary};
  return in ? static_cast<size_t>(in.tellg()) : 0;
}

TEST(partition, cut_node_stops_taking_work_and_rejoins_after_heal) {
  stack_options opts;
  opts.nodes = 3;
  opts.cluster = true;
  opts.reclaim_idle_ms = 30'000; // the take-over must not wait for this
  psp_stack stack{opts};
  // Every node again, now dialing its peers through the proxy.
  partition_proxy proxy;
  for (size_t from = 0; from < 3; ++from) {
    for (size_t to = 0; to < 3; ++to) {
      if (from != to) {
        proxy.add_pair(all_nodes[from], all_nodes[to],
                       cluster_port_of(stack, to));
      }
    }
  }
  for (size_t i = 0; i < 3; ++i) {
    stack.stop_node(i);
    stack.start_node(i, {"--psp.cluster-peer-routes="
                         + proxy.routes_for(all_nodes[i])});
  }
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(stack.wait_for_view(i, all_nodes, 15s)) << all_nodes[i];
  }
  ASSERT_GE(proxy.accepted(), 3u) << "the nodes dial through the proxy";

  // Cut node-1 while every node holds payments at a slow card network: the
  // stream entries node-1 read have been idle long enough to be taken over.
  stack.sim_faults({{"latency_ms", 1500}});
  auto offset = log_size(stack, 1);
  std::vector<size_t> peer_offsets{log_size(stack, 0), 0, log_size(stack, 2)};
  auto during_cut = pay_many(stack, 60, {0, 1, 2});
  std::this_thread::sleep_for(700ms);
  EXPECT_GT(proxy.cut("node-1"), 0u);
  EXPECT_TRUE(log_shows(stack, 1, offset,
                        "event=quorum_lost node=node-1 reachable=1 "
                        "registered=3 payments=off",
                        5s));
  EXPECT_TRUE(stack.wait_for_view(0, {"node-0", "node-2"}, 5s));
  EXPECT_TRUE(stack.wait_for_view(2, {"node-0", "node-2"}, 5s));
  EXPECT_TRUE(stack.wait_for_view(1, {"node-1"}, 5s));
  // The majority claimed node-1's pending entries although it is still
  // registered (it heartbeats to Redis all along).
  int claimed = 0;
  wait_until(
    [&] {
      claimed = taken_over(stack, 0, peer_offsets[0], "node-1")
                + taken_over(stack, 2, peer_offsets[2], "node-1");
      return claimed > 0;
    },
    5s, 50ms);
  EXPECT_GT(claimed, 0) << "node-1's pending entries were not taken over";

  // While cut, node-1 still takes checkouts over HTTP but processes none.
  stack.sim_faults({{"latency_ms", 0}});
  auto started = clock_type::now();
  auto while_cut = pay_many(stack, 45, {0, 1, 2});
  expect_all_complete(stack, while_cut, 30s);
  auto settled_s =
    std::chrono::duration<double>(clock_type::now() - started).count();
  for (auto& cs : while_cut) {
    EXPECT_NE(stack.redis_hash("pi:" + intent_of(stack, cs))["processed_by"],
              "node-1")
      << cs << ": processed by the minority";
  }
  // What node-1 held when it was cut was taken over (or finished by it).
  expect_all_complete(stack, during_cut, 30s);
  // The minority took nothing over, not even while it still saw one peer.
  EXPECT_EQ(taken_over(stack, 1, offset, "node-0")
              + taken_over(stack, 1, offset, "node-2"),
            0);
  std::cout << "[ measure  ] " << claimed
            << " entries of the cut node taken over; 45 payments (15 via the "
               "cut node) settled in "
            << settled_s << " s during the partition" << std::endl;

  // Heal: the connections come back, the views converge, node-1 works again.
  offset = log_size(stack, 1);
  proxy.heal("node-1");
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(stack.wait_for_view(i, all_nodes, 10s)) << all_nodes[i];
  }
  EXPECT_TRUE(log_shows(stack, 1, offset,
                        "event=quorum_regained node=node-1 reachable=", 5s));
  auto after = pay_many(stack, 30, {0, 1, 2});
  expect_all_complete(stack, after, 30s);
  int by_node_1 = 0;
  for (auto& cs : after) {
    by_node_1 +=
      stack.redis_hash("pi:" + intent_of(stack, cs))["processed_by"] == "node-1";
  }
  EXPECT_GT(by_node_1, 0) << "the healed node takes work again";

  // One ledger transaction per payment: nothing was committed twice.
  EXPECT_TRUE(stack.ledger_balanced());
  EXPECT_EQ(stack.redis_len("ledger:transactions"),
            static_cast<long long>(during_cut.size() + while_cut.size()
                                   + after.size()));
  auto counts = stack.sim_charge_counts();
  for (auto& [ref, count] : counts.items()) {
    EXPECT_LE(count.get<int>(), 1) << "double charge of " << ref;
  }
  proxy.stop();
}

} // namespace
} // namespace psp::test
