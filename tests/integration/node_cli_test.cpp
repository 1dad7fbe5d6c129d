// Goal: psp-node refuses to start with a clear message and a distinct exit
// code for each start-up failure (2 bad config, 3 Redis unreachable, 4 port
// in use, 8 a Redis that would lose acknowledged payments: no AOF, no fsync
// per write, evicting keys; it starts on one only when told to warn; 9 a
// vault key other than the one the nodes of its Redis use; 10, a clock far
// off Redis's, is judged by clock_check_test, and here the offset is
// measured on a real Redis; 3 also for a Redis that asks for a password the
// node lacks or gets wrong, never echoing it), names its threads, and stops
// cleanly on SIGTERM (exit 0; 7 is kept for a node that stops because one
// of its actors went down).

#include "adapters/redis/clock_check.hpp"
#include "adapters/redis/durability_check.hpp"
#include "tests/support/psp_stack.hpp"
#include "tests/support/raw_http.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace psp::test {
namespace {

/// A node command line that is valid apart from what a test overrides
/// (later flags win).
std::vector<std::string> node_argv(const temp_dir& dir, uint16_t redis_port,
                                   uint16_t http_port,
                                   std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{psp_node_binary(),
                                "--psp.http-port=" + std::to_string(http_port),
                                "--psp.redis=127.0.0.1:" +
                                    std::to_string(redis_port),
                                "--psp.card-network-url=http://127.0.0.1:9",
                                "--psp.data-dir=" + dir.path() + "/data",
                                "--psp.node-id=cli-test",
                                "--psp.admin-token=t",
                                // Everything here is on loopback.
                                "--psp.webhook-private-addresses=true"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

/// Holds a listening socket on 127.0.0.1 for the test's lifetime.
class port_holder {
public:
  port_holder() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (fd_ < 0 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(fd_, 4) != 0) {
      throw std::runtime_error("cannot hold a port");
    }
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~port_holder() { ::close(fd_); }
  uint16_t port() const { return port_; }

private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

TEST(node_cli, unreachable_redis_exits_3) {
  temp_dir dir;
  auto closed = free_port();
  auto res = run_to_exit(node_argv(dir, closed, free_port()));
  EXPECT_FALSE(res.timed_out);
  EXPECT_EQ(res.exit_code, 3) << res.err;
  EXPECT_NE(
      res.err.find("cannot use Redis at 127.0.0.1:" + std::to_string(closed)),
      std::string::npos)
      << res.err;
  EXPECT_EQ(res.out.find("listening on"), std::string::npos);
}

TEST(node_cli, http_port_in_use_exits_4) {
  redis_server redis;
  temp_dir dir;
  port_holder taken;
  auto res = run_to_exit(node_argv(dir, redis.port(), taken.port()));
  EXPECT_FALSE(res.timed_out);
  EXPECT_EQ(res.exit_code, 4) << res.err;
  EXPECT_NE(res.err.find("127.0.0.1:" + std::to_string(taken.port())),
            std::string::npos)
      << res.err;
  EXPECT_NE(res.err.find("in use"), std::string::npos) << res.err;
}

TEST(node_cli, a_port_shared_with_so_reuseport_still_exits_4) {
  // What another psp-node's listener looks like with cpp-httplib's default
  // socket options: without our own, the second node would share the port.
  redis_server redis;
  temp_dir dir;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof(yes));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto port = ntohs(addr.sin_port);
  auto res = run_to_exit(node_argv(dir, redis.port(), port));
  ::close(fd);
  EXPECT_FALSE(res.timed_out);
  EXPECT_EQ(res.exit_code, 4) << res.err;
}

TEST(node_cli, help_lists_the_psp_options) {
  auto res = run_to_exit({psp_node_binary(), "--help"});
  EXPECT_EQ(res.exit_code, 0) << res.err;
  EXPECT_NE((res.out + res.err).find("psp.card-connections-min"),
            std::string::npos)
    << res.out;
}

TEST(node_cli, bad_configuration_exits_2) {
  temp_dir dir;
  auto redis_port = free_port(); // never reached: config is checked first
  struct bad_flag {
    std::string flag;
    std::string mentions;
  };
  for (auto& c : std::vector<bad_flag>{
           {"--psp.webhook-schedule=garbage", "webhook-schedule"},
           {"--psp.webhook-schedule=5s,,1m", "webhook-schedule"},
           {"--psp.redis=nonsense", "psp.redis"},
           {"--psp.card-network-url=ftp://x", "card-network-url"},
           {"--psp.log-level=loud", "log-level"},
           {"--psp.vault-key=abc", "vault-key"},
           {"--psp.http-threads=1", "http-threads"},
           {"--psp.redis-durability=maybe", "redis-durability"},
           {"--psp.webhook-private-addresses=maybe",
            "webhook-private-addresses"},
           // CAF's own parser errors, said in words; a mistyped name's
           // value (it may be a password) not repeated.
           {"--psp.http-port=99999", "--psp.http-port=99999: out of range"},
           {"--psp.http-port=abc", "--psp.http-port: not a value"},
           {"--psp.redis-pasword=hunter2x", "--psp.redis-pasword: no such option"},
           {"-psp.admin-token=hunter2x", "-psp.admin-token: no such option"},
           {"-ahunter2x", "-a: no such option"},
           // Not an option at all: refused, not ignored, and not repeated.
           {"hunter2x", "no option"}}) {
    SCOPED_TRACE(c.flag);
    auto res = run_to_exit(node_argv(dir, redis_port, free_port(), {c.flag}));
    EXPECT_FALSE(res.timed_out);
    EXPECT_EQ(res.exit_code, 2) << res.err;
    EXPECT_NE(res.err.find("bad configuration"), std::string::npos) << res.err;
    EXPECT_NE(res.err.find(c.mentions), std::string::npos) << res.err;
    EXPECT_EQ(res.err.find("hunter2x"), std::string::npos) << res.err;
  }
}

/// True once the node logging to `log` listens (within 20 s).
bool wait_listening(const std::string& log) {
  return wait_until(
      [&] {
        return tail_file(log, 50).find("psp-node cli-test listening on") !=
               std::string::npos;
      },
      20s);
}

/// Sets `name` on the running test Redis.
void config_set(redis_server& redis, const std::string& name,
                const std::string& value) {
  auto r = redis_command(redis.port(), {"CONFIG", "SET", name, value});
  ASSERT_TRUE(r && r->ok()) << name << " " << value;
}

TEST(node_cli, the_settings_and_clock_judged_are_read_from_a_real_redis) {
  redis_server redis;
  redis::connection conn{redis::endpoint{"127.0.0.1", redis.port()}, 2000};
  std::string err;
  auto settings = redis::read_redis_settings(conn, err);
  ASSERT_TRUE(settings) << err;
  EXPECT_EQ((*settings)["appendonly"], "yes");
  EXPECT_EQ((*settings)["appendfsync"], "always");
  EXPECT_EQ((*settings)["maxmemory-policy"], "noeviction");
  EXPECT_EQ((*settings)["hash-max-listpack-entries"], "512");
  // What deps.sh installs (Debian 12: 7.0.x), read from INFO.
  auto& version = (*settings)["redis_version"];
  EXPECT_GE(std::stoi(version.substr(0, version.find('.'))), 7) << version;
  EXPECT_TRUE(redis::judge_redis_settings(*settings).empty());
  // Same machine, same clock: the offset is the round trip's noise.
  auto clock = redis::measure_clock_offset(conn);
  ASSERT_TRUE(clock);
  EXPECT_LT(std::llabs(clock->offset_ms), 1'000) << clock->offset_ms;
  EXPECT_EQ(redis::judge_clock_offset(*clock, 60'000),
            redis::clock_verdict::fine);
}

TEST(node_cli, a_redis_that_would_lose_acknowledged_payments_exits_8) {
  struct unsafe {
    std::vector<std::pair<std::string, std::string>> settings;
    std::string mentions;
  };
  for (auto& c : std::vector<unsafe>{
         {{{"appendonly", "no"}}, "appendonly is 'no'"},
         {{{"appendfsync", "everysec"}}, "appendfsync is 'everysec'"},
         {{{"maxmemory", "100mb"}, {"maxmemory-policy", "allkeys-lru"}},
          "maxmemory-policy is 'allkeys-lru'"}}) {
    SCOPED_TRACE(c.mentions);
    redis_server redis;
    for (auto& [name, value] : c.settings) {
      config_set(redis, name, value);
    }
    temp_dir dir;
    auto res = run_to_exit(node_argv(dir, redis.port(), free_port()));
    EXPECT_FALSE(res.timed_out);
    EXPECT_EQ(res.exit_code, 8) << res.err;
    EXPECT_NE(res.err.find("is not durable: " + c.mentions),
              std::string::npos)
      << res.err;
    EXPECT_NE(res.err.find("--psp.redis-durability=warn"), std::string::npos)
      << res.err;
    // Refused before writing anything (not even the stream groups).
    auto size = redis_command(redis.port(), {"DBSIZE"});
    ASSERT_TRUE(size);
    EXPECT_EQ(size->number, 0);
  }
}

TEST(node_cli, a_redis_with_a_password_needs_it_and_no_message_shows_it) {
  redis_server redis;
  const std::string password = "pw-7f3a9c1e-not-in-any-message";
  auto set = redis_command(redis.port(),
                           {"CONFIG", "SET", "requirepass", password});
  ASSERT_TRUE(set && set->ok());
  temp_dir dir;
  auto without = run_to_exit(node_argv(dir, redis.port(), free_port()));
  EXPECT_EQ(without.exit_code, 3) << without.err;
  EXPECT_NE(without.err.find("NOAUTH"), std::string::npos) << without.err;

  auto wrong = run_to_exit(node_argv(dir, redis.port(), free_port(),
                                     {"--psp.redis-password=" + password
                                      + "-wrong"}));
  EXPECT_EQ(wrong.exit_code, 3) << wrong.err;
  EXPECT_NE(wrong.err.find("AUTH refused: WRONGPASS"), std::string::npos)
    << wrong.err;
  EXPECT_EQ(wrong.err.find(password), std::string::npos) << wrong.err;
  // Credentials in the address are refused unechoed: they would show in
  // messages and process listings.
  auto in_address = run_to_exit(node_argv(
    dir, redis.port(), free_port(),
    {"--psp.redis=default:" + password + "@127.0.0.1:"
     + std::to_string(redis.port())}));
  EXPECT_EQ(in_address.exit_code, 2) << in_address.err;
  EXPECT_EQ(in_address.err.find(password), std::string::npos)
    << in_address.err;
  auto admin = run_to_exit({psp_admin_binary(), "--redis",
                            "127.0.0.1:" + std::to_string(redis.port()),
                            "verify-ledger"});
  EXPECT_EQ(admin.exit_code, 3) << admin.out;
  EXPECT_NE(admin.err.find("NOAUTH"), std::string::npos) << admin.err;
  // And says where the password goes; also for a wrong one, never
  // repeating it.
  EXPECT_NE(admin.err.find("PSP_REDIS_PASSWORD"), std::string::npos)
    << admin.err;
  auto wrong_admin =
    run_to_exit({"/usr/bin/env", "PSP_REDIS_PASSWORD=wrong-pass-x9",
                 psp_admin_binary(), "--redis",
                 "127.0.0.1:" + std::to_string(redis.port()), "verify-ledger"});
  EXPECT_EQ(wrong_admin.exit_code, 3) << wrong_admin.out;
  EXPECT_NE(wrong_admin.err.find("PSP_REDIS_PASSWORD"), std::string::npos)
    << wrong_admin.err;
  EXPECT_EQ(wrong_admin.err.find("wrong-pass-x9"), std::string::npos)
    << wrong_admin.err;

  auto port = free_port();
  auto log = dir.path() + "/node.log";
  child_process node{node_argv(dir, redis.port(), port,
                               {"--psp.redis-password=" + password}),
                     log};
  ASSERT_TRUE(wait_listening(log)) << tail_file(log, 50);
  EXPECT_EQ(
    http_get("http://127.0.0.1:" + std::to_string(port), "/healthz").status,
    200);
  // It wrote with the password (the vault key check, the stream groups).
  redis::endpoint authed{"127.0.0.1", redis.port()};
  authed.password = password;
  redis::connection conn{authed, 2000};
  auto size = conn.query({"DBSIZE"});
  ASSERT_TRUE(size) << conn.last_error();
  EXPECT_GT(size->integer, 0);
  EXPECT_EQ(tail_file(log, 500).find(password), std::string::npos);
}

TEST(node_cli, a_redis_durability_of_warn_starts_and_says_why_not) {
  // A scratch stack may run on a Redis without AOF if it says so.
  redis_server redis;
  config_set(redis, "appendonly", "no");
  temp_dir dir;
  auto port = free_port();
  auto log = dir.path() + "/node.log";
  child_process node{node_argv(dir, redis.port(), port,
                               {"--psp.redis-durability=warn"}),
                     log};
  ASSERT_TRUE(wait_listening(log)) << tail_file(log, 50);
  auto logged = tail_file(log, 200);
  EXPECT_NE(logged.find("event=redis_setting setting=appendonly "
                        "durability=broken"),
            std::string::npos)
    << logged;
  EXPECT_EQ(
    http_get("http://127.0.0.1:" + std::to_string(port), "/healthz").status,
    200);
}

TEST(node_cli, a_node_with_another_vault_key_than_its_peers_exits_9) {
  // A fresh data-dir creates a key of its own: on a second machine that
  // node could not open the cards the others seal, and would derive other
  // object ids for re-run requests.
  redis_server redis;
  const std::string key_a(64, 'a');
  const std::string key_b(64, 'b');
  auto start_and_stop = [&](const std::string& key) {
    temp_dir dir;
    auto port = free_port();
    auto log = dir.path() + "/node.log";
    child_process node{node_argv(dir, redis.port(), port,
                                 {"--psp.vault-key=" + key}),
                       log};
    EXPECT_TRUE(wait_listening(log)) << tail_file(log, 50);
    return node.stop(std::chrono::milliseconds{10'000});
  };
  start_and_stop(key_a); // the first: its check is stored
  auto stored = redis_command(redis.port(), {"GET", "psp:vault_key_check"});
  ASSERT_TRUE(stored && stored->kind == redis_reply::string);
  EXPECT_EQ(stored->str.size(), 64u);
  EXPECT_EQ(stored->str.find(key_a), std::string::npos); // not the key

  temp_dir dir;
  auto res = run_to_exit(node_argv(dir, redis.port(), free_port(),
                                   {"--psp.vault-key=" + key_b}));
  EXPECT_FALSE(res.timed_out);
  EXPECT_EQ(res.exit_code, 9) << res.err;
  EXPECT_NE(res.err.find("vault key is not the one"), std::string::npos)
    << res.err;
  EXPECT_EQ(res.err.find(key_b), std::string::npos) << "the key leaked";

  // The same key as the first starts again.
  int status = start_and_stop(key_a);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

/// Starts a node, checks it answers, stops it with SIGTERM: it exits 0
/// (not 7: the watchdog must not take its own stop for a failure).
void expect_clean_stop(std::vector<std::string> extra) {
  redis_server redis;
  temp_dir dir;
  auto port = free_port();
  auto log = dir.path() + "/node.log";
  child_process node{node_argv(dir, redis.port(), port, std::move(extra)),
                     log};
  ASSERT_TRUE(wait_listening(log)) << tail_file(log, 50);
  EXPECT_EQ(
      http_get("http://127.0.0.1:" + std::to_string(port), "/healthz").status,
      200);
  int status = node.stop(std::chrono::milliseconds{10'000});
  EXPECT_TRUE(WIFEXITED(status)) << "killed, not stopped: " << status << "\n"
                                 << tail_file(log, 50);
  if (WIFEXITED(status)) {
    EXPECT_EQ(WEXITSTATUS(status), 0) << tail_file(log, 50);
  }
  EXPECT_EQ(tail_file(log, 200).find("actor_down"), std::string::npos)
      << tail_file(log, 50);
  EXPECT_FALSE(wait_for_port(port, std::chrono::milliseconds{100}));
}

TEST(node_cli, sigterm_stops_a_running_node_cleanly) {
  expect_clean_stop({});
}

TEST(node_cli, sigterm_stops_a_cluster_member_cleanly) {
  expect_clean_stop(
      {"--psp.cluster-port=" + std::to_string(free_port())});
}

/// How many threads of `pid` carry each name.
std::map<std::string, int> thread_names(pid_t pid) {
  std::map<std::string, int> out;
  std::error_code ec;
  for (auto& task : std::filesystem::directory_iterator{
         "/proc/" + std::to_string(pid) + "/task", ec}) {
    std::string name;
    std::getline(std::ifstream{task.path() / "comm"}, name);
    ++out[name];
  }
  return out;
}

// What `top -H` and the bench's per-thread rows show (docs/architecture.md):
// every thread of ours named by its job. CAF names its own (in 0.17 its
// scheduler workers share the multiplexer's name, set by CAF as they run).
TEST(node_cli, a_running_node_names_its_threads) {
  redis_server redis;
  temp_dir dir;
  auto port = free_port();
  auto log = dir.path() + "/node.log";
  child_process node{node_argv(dir, redis.port(), port,
                               {"--psp.store-workers=3"}),
                     log};
  ASSERT_TRUE(wait_listening(log)) << tail_file(log, 50);
  // The HTTP clients' threads start with their actors, soon after.
  std::map<std::string, int> names;
  EXPECT_TRUE(wait_until(
      [&] {
        names = thread_names(node.pid());
        return names["psp.card"] == 1 && names["psp.webhook"] == 1;
      },
      5s));
  EXPECT_EQ(names["caf.clock"], 1);
  EXPECT_EQ(names["psp.store"], 3);
  EXPECT_EQ(names["psp.delivery"], 2);
  EXPECT_GE(names["psp.http"], 2); // the acceptor and its pool
  for (auto* one : {"psp.card", "psp.webhook", "psp.stream", "psp.archiver",
                    "psp.expiry", "psp.retention", "psp.continuity"}) {
    EXPECT_EQ(names[one], 1) << one;
  }
  EXPECT_EQ(names["psp-node"], 1) << "only the main thread is unnamed";
}

TEST(node_cli, every_thread_leaves_the_stop_signals_to_the_main_one) {
  // The re-test: the claim janitor's thread started before the signals
  // were blocked, so a SIGTERM sent while the node was stopped was taken
  // there, by its default action: killed, no clean stop.
  redis_server redis;
  temp_dir dir;
  auto log = dir.path() + "/node.log";
  child_process node{node_argv(dir, redis.port(), free_port()), log};
  ASSERT_TRUE(wait_listening(log)) << tail_file(log, 50);
  const unsigned long long stop_signals =
    (1ULL << (SIGTERM - 1)) | (1ULL << (SIGINT - 1));
  std::error_code ec;
  int threads = 0;
  for (auto& task : std::filesystem::directory_iterator{
         "/proc/" + std::to_string(node.pid()) + "/task", ec}) {
    if (task.path().filename() == std::to_string(node.pid())) {
      continue; // the main thread, in sigwait: it unblocks them to wait
    }
    std::ifstream status{task.path() / "status"};
    std::string comm;
    std::getline(std::ifstream{task.path() / "comm"}, comm);
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("SigBlk:", 0) == 0) {
        auto blocked = std::stoull(line.substr(7), nullptr, 16);
        EXPECT_EQ(blocked & stop_signals, stop_signals) << comm << ": " << line;
        ++threads;
      }
    }
  }
  EXPECT_GT(threads, 10);
  // Sent while it is stopped, the SIGTERM waits for the main thread.
  node.signal(SIGSTOP);
  node.signal(SIGTERM);
  std::this_thread::sleep_for(100ms);
  node.signal(SIGCONT);
  ASSERT_TRUE(wait_until([&] { return !node.running(); }, 15s));
  EXPECT_EQ(node.exit_code(), std::optional<int>{0}) << tail_file(log, 50);
  EXPECT_NE(tail_file(log, 50).find("event=node_stopped"), std::string::npos)
    << tail_file(log, 50);
}

TEST(node_cli, a_running_node_writes_no_core_file) {
  // Card numbers and the vault key pass through its memory (the card data
  // audit found a core possible, holding both).
  redis_server redis;
  temp_dir dir;
  auto log = dir.path() + "/node.log";
  child_process node{node_argv(dir, redis.port(), free_port()), log};
  ASSERT_TRUE(wait_listening(log)) << tail_file(log, 50);
  std::ifstream limits{"/proc/" + std::to_string(node.pid()) + "/limits"};
  std::string line;
  std::string core;
  while (std::getline(limits, line)) {
    if (line.rfind("Max core file size", 0) == 0) {
      core = line;
    }
  }
  std::istringstream fields{core.substr(std::string{"Max core file size"}.size())};
  std::string soft;
  std::string hard;
  fields >> soft >> hard;
  EXPECT_EQ(soft, "0") << core;
  EXPECT_EQ(hard, "0") << core;
}

TEST(node_cli, a_stop_signal_drains_before_the_node_stops_listening) {
  // A rolling deploy behind a balancer: on SIGTERM the node first tells
  // /healthz readers it is going (503 "draining") and closes each answered
  // connection, while it still serves, for --psp.drain-ms; a second signal
  // ends the drain (the rolling-deploy drill found no drain at all: the
  // listener closed 15 ms after the signal).
  stack_options opts;
  opts.node_args = {"--psp.drain-ms=60000"};
  psp_stack stack{opts};
  ASSERT_EQ(http_get(stack.node_url(), "/healthz").status, 200);
  stack.node_process(0)->signal(SIGTERM);
  http_reply health;
  ASSERT_TRUE(wait_until(
    [&] {
      health = http_get(stack.node_url(), "/healthz");
      return health.status == 503;
    },
    5s))
    << health.status << " " << health.body;
  EXPECT_EQ(health.body_json().value("status", ""), "draining") << health.body;
  EXPECT_EQ(health.body_json().value("redis", ""), "up") << health.body;
  EXPECT_EQ(health.header("Connection"), "close");
  auto session = stack.api_post(
    "/v1/checkout/sessions",
    {{"mode", "payment"},
     {"success_url", "https://shop.example/ok"},
     {"line_items[0][price_data][currency]", "usd"},
     {"line_items[0][price_data][unit_amount]", "500"},
     {"line_items[0][price_data][product_data][name]", "Tea"},
     {"line_items[0][quantity]", "1"}});
  EXPECT_EQ(session.status, 200) << "still serving: " << session.body;
  // A keep-alive client is told to go (the re-test: the socket closed
  // under clients that had been promised Keep-Alive).
  auto kept = raw_exchange(stack.node_url(),
                           "GET /v1/balance HTTP/1.1\r\nHost: x\r\n"
                           "Authorization: Bearer " + stack.secret_key()
                             + "\r\n\r\n");
  EXPECT_EQ(raw_status_of(kept), 200) << kept;
  EXPECT_NE(kept.find("Connection: close"), std::string::npos) << kept;
  EXPECT_EQ(kept.find("Keep-Alive"), std::string::npos) << kept;
  EXPECT_NE(tail_file(stack.node_log(0), 50).find("event=node_draining"),
            std::string::npos);
  // The second signal (stop_node's) ends the drain at once: exit 0, not
  // the SIGKILL stop_node sends after its grace.
  EXPECT_EQ(stack.stop_node(0), 0);
}

} // namespace
} // namespace psp::test
