// Goal: the quorum rule lets exactly one side of a partition take payment
// work: a strict majority of the registered members, or the half holding the
// smallest registered id on a tie, and never a minority; members that
// vanished in a Redis stall still count for a grace period.

#include "cluster/quorum.hpp"

#include <gtest/gtest.h>

namespace psp {
namespace {

const std::vector<std::string> three{"node-1", "node-2", "node-3"};

TEST(quorum, alone_and_registered_alone_has_it) {
  auto d = decide_quorum("node-1", {"node-1"}, {"node-1"});
  EXPECT_TRUE(d.has_quorum);
  EXPECT_EQ(d.reachable, 1u);
  EXPECT_EQ(d.registered, 1u);
}

TEST(quorum, counts_self_even_when_not_registered) {
  // Between the expiry of our registration and the rejoin.
  auto d = decide_quorum("node-1", {}, {});
  EXPECT_TRUE(d.has_quorum);
  EXPECT_EQ(d.registered, 1u);
  d = decide_quorum("node-3", {"node-1", "node-2"}, {});
  EXPECT_FALSE(d.has_quorum);
  EXPECT_EQ(d.registered, 3u);
}

TEST(quorum, all_connected_majority) {
  for (auto& self : three) {
    EXPECT_TRUE(decide_quorum(self, three, three).has_quorum) << self;
  }
}

TEST(quorum, cut_node_of_three_is_a_minority) {
  auto cut = decide_quorum("node-2", three, {"node-2"});
  EXPECT_FALSE(cut.has_quorum);
  EXPECT_EQ(cut.reachable, 1u);
  EXPECT_EQ(cut.registered, 3u);
  // Even the smallest id loses when it is alone against two.
  EXPECT_FALSE(decide_quorum("node-1", three, {"node-1"}).has_quorum);
  // The two others still reach each other: 2 of 3.
  auto rest = decide_quorum("node-1", three, {"node-1", "node-3"});
  EXPECT_TRUE(rest.has_quorum);
  EXPECT_EQ(rest.reachable, 2u);
}

TEST(quorum, tie_goes_to_the_side_with_the_smallest_id) {
  std::vector<std::string> two{"node-a", "node-b"};
  EXPECT_TRUE(decide_quorum("node-a", two, {"node-a"}).has_quorum);
  EXPECT_FALSE(decide_quorum("node-b", two, {"node-b"}).has_quorum);
  std::vector<std::string> four{"n1", "n2", "n3", "n4"};
  EXPECT_TRUE(decide_quorum("n3", four, {"n1", "n3"}).has_quorum);
  EXPECT_FALSE(decide_quorum("n2", four, {"n2", "n4"}).has_quorum);
}

TEST(quorum, a_tie_keeps_the_quorum_but_never_grants_it) {
  // node-a restarts into a 2-node cluster: it sees node-b registered but
  // is not connected yet, while node-b has not read node-a's registration
  // and still counts itself alone. Taking the quorum by the tie now would
  // make two working sides until node-b's next read.
  std::vector<std::string> two{"node-a", "node-b"};
  EXPECT_FALSE(decide_quorum("node-a", two, {"node-a"}, false).has_quorum);
  EXPECT_TRUE(decide_quorum("node-a", two, {"node-a", "node-b"}, false)
                .has_quorum);
  // Held, it is kept: a clean split of two leaves node-a working.
  EXPECT_TRUE(decide_quorum("node-a", two, {"node-a"}, true).has_quorum);
  // A strict majority is granted either way.
  EXPECT_TRUE(decide_quorum("node-2", three, {"node-2", "node-3"}, false)
                .has_quorum);
}

TEST(quorum, unregistered_connections_do_not_count) {
  // A peer whose registration expired (paused) may still be connected.
  auto d = decide_quorum("node-1", three, {"node-1", "ghost-1", "ghost-2"});
  EXPECT_FALSE(d.has_quorum);
  EXPECT_EQ(d.reachable, 1u);
}

TEST(quorum, duplicates_are_counted_once) {
  auto d = decide_quorum("node-2", {"node-1", "node-1", "node-2", "node-3"},
                         {"node-2", "node-2"});
  EXPECT_EQ(d.registered, 3u);
  EXPECT_EQ(d.reachable, 1u);
  EXPECT_FALSE(d.has_quorum);
}

TEST(quorum, dead_member_still_registered_keeps_survivors_working) {
  // A killed node stays registered until its TTL: 2 of 3 still decide.
  EXPECT_TRUE(decide_quorum("node-2", three, {"node-2", "node-3"}).has_quorum);
  // Two of three out at once: the survivor waits for their TTLs.
  EXPECT_FALSE(decide_quorum("node-2", three, {"node-2"}).has_quorum);
  EXPECT_TRUE(decide_quorum("node-2", {"node-2"}, {"node-2"}).has_quorum);
}

using namespace std::chrono_literals;

TEST(quorum_members, a_redis_stall_does_not_shrink_the_cluster_to_one) {
  // Redis stalled past the TTL: every registration lapsed. node-2, cut off
  // from its peers, registers again first and reads itself alone; the two
  // it last saw still count, so it holds no majority of one.
  quorum_members members{2500ms};
  auto t0 = quorum_members::time_point{} + 1h;
  members.observe({"node-1", "node-2", "node-3"}, {}, t0);
  members.observe({"node-2"}, {}, t0 + 30s); // the first read after a 30 s stall
  auto counted = members.counted();
  EXPECT_EQ(counted, three);
  EXPECT_FALSE(decide_quorum("node-2", counted, {"node-2"}).has_quorum);
  // The others register again within the grace: nothing changes.
  members.observe({"node-1", "node-2", "node-3"}, {}, t0 + 31s);
  EXPECT_EQ(members.counted(), three);
}

TEST(quorum_members, a_member_gone_for_the_grace_stops_counting) {
  quorum_members members{2500ms};
  auto t0 = quorum_members::time_point{} + 1h;
  members.observe({"node-1", "node-2"}, {}, t0);
  members.observe({"node-2"}, {}, t0 + 1s);
  EXPECT_EQ(members.counted().size(), 2u);
  // The grace runs from the first read that missed it, not from this one.
  members.observe({"node-2"}, {}, t0 + 3s);
  EXPECT_EQ(members.counted().size(), 2u);
  members.observe({"node-2"}, {}, t0 + 3500ms);
  EXPECT_EQ(members.counted(), std::vector<std::string>{"node-2"});
  EXPECT_TRUE(decide_quorum("node-2", members.counted(), {"node-2"}).has_quorum);
}

TEST(quorum_members, a_member_that_left_on_purpose_stops_counting_at_once) {
  // A rolling restart: node-1 stops with SIGTERM and marks its leave.
  quorum_members members{2500ms};
  auto t0 = quorum_members::time_point{} + 1h;
  members.observe({"node-1", "node-2"}, {}, t0);
  members.observe({"node-2"}, {"node-1"}, t0 + 100ms);
  EXPECT_EQ(members.counted(), std::vector<std::string>{"node-2"});
  // A mark read after the member was already being missed ends it too.
  members.observe({"node-1", "node-2"}, {}, t0 + 200ms);
  members.observe({"node-2"}, {}, t0 + 300ms);
  members.observe({"node-2"}, {"node-1"}, t0 + 400ms);
  EXPECT_EQ(members.counted(), std::vector<std::string>{"node-2"});
}

} // namespace
} // namespace psp
