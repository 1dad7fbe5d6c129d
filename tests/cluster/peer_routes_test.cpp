// Goal: --psp.cluster-peer-routes parses "id=host:port,..." and rejects
// anything else with a message; a peer without a route is dialed at the
// address it registered.

#include "cluster/peer_routes.hpp"

#include <gtest/gtest.h>

namespace psp {
namespace {

TEST(peer_routes, empty_means_no_routes) {
  peer_routes routes{{"stale", "x:1"}};
  std::string err;
  ASSERT_TRUE(parse_peer_routes("", routes, err));
  EXPECT_TRUE(routes.empty());
}

TEST(peer_routes, parses_routes) {
  peer_routes routes;
  std::string err;
  ASSERT_TRUE(parse_peer_routes(
    "nodeB=127.0.0.1:19001,nodeC=localhost:19002", routes, err))
    << err;
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes["nodeB"], "127.0.0.1:19001");
  EXPECT_EQ(routes["nodeC"], "localhost:19002");
}

TEST(peer_routes, rejects_bad_items) {
  for (const char* bad :
       {"nodeB", "nodeB=", "=127.0.0.1:1", "nodeB=127.0.0.1", "nodeB=:19001",
        "nodeB=127.0.0.1:0", "nodeB=127.0.0.1:65536", "nodeB=127.0.0.1:x1",
        "nodeB=127.0.0.1:19001,", ",nodeB=127.0.0.1:19001",
        "nodeB=127.0.0.1:19001,nodeB=127.0.0.1:19002",
        "nodeB=127.0.0.1:19001 ", "nodeB=a=b:1"}) {
    peer_routes routes;
    std::string err;
    EXPECT_FALSE(parse_peer_routes(bad, routes, err)) << bad;
    EXPECT_FALSE(err.empty()) << bad;
  }
}

TEST(peer_routes, dial_address_prefers_the_route) {
  peer_routes routes{{"nodeB", "127.0.0.1:19001"}};
  EXPECT_EQ(dial_address(routes, "nodeB", "127.0.0.1:4000"), "127.0.0.1:19001");
  EXPECT_EQ(dial_address(routes, "nodeC", "127.0.0.1:4001"), "127.0.0.1:4001");
}

} // namespace
} // namespace psp
