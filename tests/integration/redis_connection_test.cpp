// Goal: a connection that sat in a pool while Redis restarted serves its
// next command on the new Redis, instead of failing it once (a 503 to an
// API caller while Redis is up); a live connection is kept.

#include "adapters/redis/redis_connection.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace psp::test {
namespace {

using namespace std::chrono_literals;

TEST(redis_connection, an_idle_connection_closed_by_a_restart_reconnects_first) {
  redis_server server;
  redis::connection conn{redis::endpoint{"127.0.0.1", server.port()}, 2000};
  ASSERT_TRUE(conn.query({"SET", "k", "before"})) << conn.last_error();
  auto id_before = conn.query({"CLIENT", "ID"});
  ASSERT_TRUE(id_before);

  server.restart_after_kill();
  std::this_thread::sleep_for(300ms); // idle past the check's threshold

  auto got = conn.query({"GET", "k"});
  ASSERT_TRUE(got) << "first command after the restart failed: "
                   << conn.last_error();
  EXPECT_EQ(got->text(), "before") << "read from the restarted Redis (AOF)";
}

TEST(redis_connection, a_live_idle_connection_is_kept) {
  redis_server server;
  redis::connection conn{redis::endpoint{"127.0.0.1", server.port()}, 2000};
  auto first = conn.query({"CLIENT", "ID"});
  ASSERT_TRUE(first);
  std::this_thread::sleep_for(300ms);
  auto second = conn.query({"CLIENT", "ID"});
  ASSERT_TRUE(second);
  EXPECT_EQ(first->integer, second->integer) << "the same connection";
}

} // namespace
} // namespace psp::test
