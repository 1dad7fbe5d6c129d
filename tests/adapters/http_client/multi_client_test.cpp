// The event-loop HTTP client against a real cpp-httplib server on loopback.

#include "adapters/http_client/multi_client.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

using namespace psp::http_client;
using namespace std::chrono_literals;

namespace {

/// A loopback server whose handlers the tests write; stops on destruction.
class loopback_server {
public:
  explicit loopback_server(size_t threads = 48) {
    server_.new_task_queue = [threads] {
      return new httplib::ThreadPool(threads);
    };
    server_.set_tcp_nodelay(true);
    server_.set_keep_alive_max_count(1'000);
  }

  ~loopback_server() {
    server_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  httplib::Server& routes() { return server_; }

  std::string start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread{[this] { server_.listen_after_bind(); }};
    while (!server_.is_running()) {
      std::this_thread::sleep_for(1ms);
    }
    return "http://127.0.0.1:" + std::to_string(port_);
  }

private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

/// Collects the answers of `expected` requests.
class answers {
public:
  explicit answers(size_t expected) : expected_(expected) {}

  post_completion collect() {
    return [this](post_response r) {
      std::lock_guard<std::mutex> guard{mutex_};
      got_.push_back(std::move(r));
      done_.notify_all();
    };
  }

  /// All answers, or fewer if they did not come within 20 s.
  std::vector<post_response> wait() {
    std::unique_lock<std::mutex> lock{mutex_};
    done_.wait_for(lock, 20s, [this] { return got_.size() >= expected_; });
    return got_;
  }

private:
  size_t expected_;
  std::mutex mutex_;
  std::condition_variable done_;
  std::vector<post_response> got_;
};

/// Counts requests inside a handler at once and remembers the most.
class concurrency_gauge {
public:
  void enter() {
    std::lock_guard<std::mutex> guard{mutex_};
    ++now_;
    most_ = std::max(most_, now_);
    changed_.notify_all();
  }

  void leave() {
    std::lock_guard<std::mutex> guard{mutex_};
    --now_;
  }

  /// Waits until `n` have been inside at once (false after 10 s).
  bool await_at_least(size_t n) {
    std::unique_lock<std::mutex> lock{mutex_};
    return changed_.wait_for(lock, 10s, [&] { return most_ >= n; });
  }

  size_t most() {
    std::lock_guard<std::mutex> guard{mutex_};
    return most_;
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  size_t now_ = 0;
  size_t most_ = 0;
};

/// A route whose requests wait inside the server until release() (10 s at
/// most). Declare it before the server that routes to it, so it outlives
/// the server's handler threads.
class hanging_route {
public:
  httplib::Server::Handler handler() {
    return [this](const httplib::Request&, httplib::Response& res) {
      gauge.enter();
      released_.wait_for(10s);
      gauge.leave();
      res.set_content("{}", "application/json");
    };
  }

  void release() {
    std::call_once(once_, [this] { release_.set_value(); });
  }

  concurrency_gauge gauge;

private:
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
  std::once_flag once_;
};

post_request post_to(const std::string& url, std::string body = "{}") {
  post_request req;
  req.url = url;
  req.body = std::move(body);
  return req;
}

/// Posts `copies` of `req` at once and waits for their answers.
std::vector<post_response> post_and_wait(multi_client& client,
                                         const post_request& req,
                                         size_t copies = 1) {
  answers got{copies};
  for (size_t i = 0; i < copies; ++i) {
    client.post(req, got.collect());
  }
  return got.wait();
}

void expect_all_ok(const std::vector<post_response>& all) {
  for (auto& r : all) {
    EXPECT_EQ(r.status, 200) << r.error;
  }
}

} // namespace

TEST(multi_client, sends_the_body_and_headers_and_returns_status_and_body) {
  loopback_server server;
  std::string seen_body;
  std::string seen_key;
  std::string seen_type;
  server.routes().Post("/v1/charges", [&](const httplib::Request& req,
                                          httplib::Response& res) {
    seen_body = req.body;
    seen_key = req.get_header_value("Idempotency-Key");
    seen_type = req.get_header_value("Content-Type");
    res.status = 402;
    res.set_content(R"({"decline_code":"insufficient_funds"})",
                    "application/json");
  });
  auto base = server.start();
  multi_client client{client_limits{}};
  auto req = post_to(base + "/v1/charges", R"({"amount":2000})");
  req.headers.emplace_back("Idempotency-Key", "pa_123");
  auto all = post_and_wait(client, req);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 402);
  EXPECT_EQ(all[0].body, R"({"decline_code":"insufficient_funds"})");
  EXPECT_TRUE(all[0].error.empty());
  EXPECT_EQ(seen_body, R"({"amount":2000})");
  EXPECT_EQ(seen_key, "pa_123");
  EXPECT_EQ(seen_type, "application/json");
}

TEST(multi_client, many_requests_are_open_at_once_on_its_one_thread) {
  // Every handler waits until all 24 requests are inside the server at
  // once: a client that sent them one by one (or 16 at a time) would never
  // get there, and the gauge would stop below 24.
  constexpr size_t requests = 24;
  loopback_server server;
  concurrency_gauge gauge;
  server.routes().Post("/slow", [&](const httplib::Request&,
                                    httplib::Response& res) {
    gauge.enter();
    gauge.await_at_least(requests);
    gauge.leave();
    res.set_content("{}", "application/json");
  });
  auto base = server.start();
  client_limits limits;
  limits.connections_per_host = 32;
  multi_client client{limits};
  auto all = post_and_wait(client, post_to(base + "/slow"), requests);
  ASSERT_EQ(all.size(), requests);
  expect_all_ok(all);
  EXPECT_EQ(gauge.most(), requests);
}

TEST(multi_client, never_opens_more_connections_to_a_host_than_its_limit) {
  constexpr size_t requests = 40;
  loopback_server server;
  concurrency_gauge gauge;
  std::mutex ports_mutex;
  std::set<int> client_ports;
  server.routes().Post("/work", [&](const httplib::Request& req,
                                    httplib::Response& res) {
    {
      std::lock_guard<std::mutex> guard{ports_mutex};
      client_ports.insert(req.remote_port);
    }
    gauge.enter();
    std::this_thread::sleep_for(5ms); // long enough for requests to pile up
    gauge.leave();
    res.set_content("{}", "application/json");
  });
  auto base = server.start();
  client_limits limits;
  limits.connections_per_host = 4;
  limits.connections_cached = 4;
  multi_client client{limits};
  auto all = post_and_wait(client, post_to(base + "/work"), requests);
  ASSERT_EQ(all.size(), requests);
  expect_all_ok(all);
  EXPECT_LE(gauge.most(), 4u);
  EXPECT_GE(gauge.most(), 2u) << "requests waited for each other";
  // Kept alive and reused: 40 requests over at most 4 connections.
  EXPECT_LE(client_ports.size(), 4u);
}

TEST(multi_client, a_refused_connection_is_an_error_and_no_status) {
  std::string url;
  { // bound, then stopped: its port refuses
    loopback_server gone;
    url = gone.start() + "/x";
  }
  multi_client client{client_limits{}};
  auto all = post_and_wait(client, post_to(url));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 0);
  EXPECT_FALSE(all[0].error.empty());
}

TEST(multi_client, a_request_past_its_timeout_is_an_error) {
  hanging_route hang;
  loopback_server server;
  server.routes().Post("/hang", hang.handler());
  auto base = server.start();
  multi_client client{client_limits{}};
  auto req = post_to(base + "/hang");
  req.timeout_ms = 200;
  auto all = post_and_wait(client, req);
  hang.release();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 0);
  EXPECT_NE(all[0].error.find("imed out"), std::string::npos) << all[0].error;
}

TEST(multi_client, an_answer_longer_than_the_limit_is_an_error) {
  loopback_server server;
  server.routes().Post("/big", [](const httplib::Request&,
                                  httplib::Response& res) {
    res.set_content(std::string(5'000, 'x'), "text/plain");
  });
  auto base = server.start();
  client_limits limits;
  limits.response_bytes_max = 1'000;
  multi_client client{limits};
  auto all = post_and_wait(client, post_to(base + "/big"));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 0);
  EXPECT_TRUE(all[0].body.empty());
  EXPECT_NE(all[0].error.find("longer than 1000 bytes"), std::string::npos)
    << all[0].error;
}

TEST(multi_client, without_keep_body_any_answer_counts_by_its_status) {
  loopback_server server;
  server.routes().Post("/big", [](const httplib::Request&,
                                  httplib::Response& res) {
    res.status = 202;
    res.set_content(std::string(5'000, 'x'), "text/plain");
  });
  auto base = server.start();
  client_limits limits;
  limits.response_bytes_max = 1'000;
  limits.keep_body = false;
  multi_client client{limits};
  auto all = post_and_wait(client, post_to(base + "/big"));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 202) << all[0].error;
  EXPECT_TRUE(all[0].body.empty());
}

TEST(multi_client, follows_only_http_urls) {
  multi_client client{client_limits{}};
  auto all = post_and_wait(client, post_to("file:///etc/hostname"));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 0);
  EXPECT_TRUE(all[0].body.empty());
  EXPECT_FALSE(all[0].error.empty());
}

TEST(multi_client, a_client_for_public_addresses_only_never_connects_here) {
  std::atomic<int> arrived{0};
  loopback_server server;
  server.routes().Post("/admin/reset", [&](const httplib::Request&,
                                           httplib::Response& res) {
    ++arrived;
    res.set_content("{}", "application/json");
  });
  auto base = server.start(); // http://127.0.0.1:<port>
  auto port = base.substr(base.rfind(':'));
  client_limits limits;
  limits.public_addresses_only = true;
  multi_client client{limits};
  // Literal, by curl's own name for this machine, in a form only the
  // resolver decodes, IPv4-mapped and IPv6 loopback.
  for (auto url : {base, "http://localhost" + port, "http://127.1" + port,
                   "http://[::ffff:127.0.0.1]" + port, "http://[::1]" + port}) {
    auto all = post_and_wait(client, post_to(url + "/admin/reset"));
    ASSERT_EQ(all.size(), 1u) << url;
    EXPECT_EQ(all[0].status, 0) << url;
    EXPECT_EQ(all[0].error.rfind("address not allowed: ", 0), 0u)
      << url << ": " << all[0].error;
  }
  auto literal = post_and_wait(client, post_to(base + "/admin/reset"));
  ASSERT_EQ(literal.size(), 1u);
  EXPECT_EQ(literal[0].error, "address not allowed: 127.0.0.1");
  EXPECT_EQ(arrived.load(), 0);

  // The default (the card network's client) still reaches loopback.
  multi_client open{client_limits{}};
  auto all = post_and_wait(open, post_to(base + "/admin/reset"));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 200) << all[0].error;
  EXPECT_EQ(arrived.load(), 1);
}

TEST(multi_client, stopping_answers_every_open_request) {
  hanging_route hang;
  loopback_server server;
  server.routes().Post("/hang", hang.handler());
  auto base = server.start();
  answers got{3};
  {
    multi_client client{client_limits{}};
    for (int i = 0; i < 3; ++i) {
      client.post(post_to(base + "/hang"), got.collect());
    }
    ASSERT_TRUE(hang.gauge.await_at_least(3));
  } // destroyed with three requests open
  auto all = got.wait();
  hang.release();
  ASSERT_EQ(all.size(), 3u);
  for (auto& r : all) {
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.error, "client stopped");
  }
}

TEST(multi_client, a_host_that_hangs_holds_back_only_its_own_requests) {
  // The connection limit is per host: with both of one host's connections
  // stuck, a request to another host still goes out and comes back.
  hanging_route hang;
  loopback_server stuck;
  stuck.routes().Post("/hook", hang.handler());
  loopback_server healthy;
  healthy.routes().Post("/hook", [](const httplib::Request&,
                                    httplib::Response& res) {
    res.set_content("{}", "application/json");
  });
  auto stuck_url = stuck.start() + "/hook";
  auto healthy_url = healthy.start() + "/hook";
  client_limits limits;
  limits.connections_per_host = 2;
  multi_client client{limits};
  answers stuck_answers{3};
  for (int i = 0; i < 3; ++i) {
    client.post(post_to(stuck_url), stuck_answers.collect());
  }
  ASSERT_TRUE(hang.gauge.await_at_least(2));
  answers healthy_answers{1};
  client.post(post_to(healthy_url), healthy_answers.collect());
  auto healthy_got = healthy_answers.wait();
  ASSERT_EQ(healthy_got.size(), 1u);
  EXPECT_EQ(healthy_got[0].status, 200) << healthy_got[0].error;
  EXPECT_EQ(hang.gauge.most(), 2u)
    << "the third request waits for a connection";
  hang.release();
  auto stuck_got = stuck_answers.wait();
  ASSERT_EQ(stuck_got.size(), 3u);
  expect_all_ok(stuck_got);
}

namespace {

/// Established connections from this process to `port` (client ends only),
/// from /proc/self/net/tcp.
size_t connections_to(int port) {
  std::ifstream table{"/proc/self/net/tcp"};
  std::string line;
  std::getline(table, line); // header
  size_t n = 0;
  while (std::getline(table, line)) {
    std::istringstream fields{line};
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    auto colon = remote.find(':');
    if (state == "01" && colon != std::string::npos
        && std::stoi(remote.substr(colon + 1), nullptr, 16) == port) {
      ++n;
    }
  }
  return n;
}

int port_of(const std::string& base) {
  return std::stoi(base.substr(base.rfind(':') + 1));
}

/// A server whose answers take `delay`; records the client ports it saw.
struct timed_route {
  concurrency_gauge gauge;
  std::mutex ports_mutex;
  std::set<int> client_ports;

  std::string serve(loopback_server& server, std::chrono::milliseconds delay) {
    server.routes().set_keep_alive_timeout(30); // only the client closes
    server.routes().Post("/work", [this, delay](const httplib::Request& req,
                                                httplib::Response& res) {
      {
        std::lock_guard<std::mutex> guard{ports_mutex};
        client_ports.insert(req.remote_port);
      }
      gauge.enter();
      std::this_thread::sleep_for(delay);
      gauge.leave();
      res.set_content("{}", "application/json");
    });
    return server.start() + "/work";
  }
};

/// An adaptive client: 2 connections up to 16, growing after
/// `grow_window_ms` of waiting.
client_limits adaptive_limits(uint32_t grow_window_ms) {
  client_limits limits;
  limits.connections_per_host = 16;
  limits.connections_min = 2;
  limits.grow_window_ms = grow_window_ms;
  return limits;
}

/// Posts `n` requests at once; true when all `n` answered (each is
/// expected to be a 200).
bool all_answered(multi_client& client, const std::string& url, size_t n) {
  auto all = post_and_wait(client, post_to(url), n);
  EXPECT_EQ(all.size(), n);
  expect_all_ok(all);
  return all.size() == n;
}

} // namespace

TEST(multi_client, an_adaptive_cap_stays_at_its_minimum_while_no_request_waits_long) {
  timed_route route;
  loopback_server server;
  auto url = route.serve(server, 2ms);
  // 20 requests of 2 ms end before a window of 10 s does.
  multi_client client{adaptive_limits(10'000)};
  ASSERT_TRUE(all_answered(client, url, 20));
  EXPECT_LE(route.gauge.most(), 2u);
  EXPECT_LE(route.client_ports.size(), 2u);
}

TEST(multi_client, an_adaptive_cap_grows_while_requests_wait_for_a_connection) {
  timed_route route;
  loopback_server server;
  auto url = route.serve(server, 50ms);
  multi_client client{adaptive_limits(5)};
  ASSERT_TRUE(all_answered(client, url, 32));
  EXPECT_GT(route.gauge.most(), 2u) << "the cap grew past its minimum";
  EXPECT_LE(route.gauge.most(), 16u) << "and never past connections_per_host";
}

TEST(multi_client, an_adaptive_cap_closes_the_connections_it_stopped_needing) {
  timed_route route;
  loopback_server server;
  auto url = route.serve(server, 50ms);
  multi_client client{adaptive_limits(5)};
  ASSERT_TRUE(all_answered(client, url, 16));
  auto opened = connections_to(port_of(url));
  ASSERT_GT(opened, 2u) << "the burst needed more than the minimum";
  // One request at a time for 4.5 s: the cap halves each second (16, 8, 4,
  // 2) and each finished request closes an idle connection above it.
  auto until = std::chrono::steady_clock::now() + 4500ms;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(all_answered(client, url, 1));
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_LE(connections_to(port_of(url)), 2u)
    << "opened " << opened << " for the burst";
}

TEST(multi_client, a_request_waiting_for_a_connection_times_out_on_time) {
  hanging_route hang;
  loopback_server server;
  server.routes().Post("/hang", hang.handler());
  auto base = server.start();
  client_limits limits;
  limits.connections_per_host = 4;
  limits.connections_min = 1;
  limits.grow_window_ms = 10'000; // the cap stays at one connection
  multi_client client{limits};
  answers first{1};
  client.post(post_to(base + "/hang"), first.collect());
  ASSERT_TRUE(hang.gauge.await_at_least(1));
  auto req = post_to(base + "/hang");
  req.timeout_ms = 200;
  auto started = std::chrono::steady_clock::now();
  auto all = post_and_wait(client, req);
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, 0);
  EXPECT_EQ(all[0].error, "timed out waiting for a connection");
  EXPECT_LT(took, 5s) << "failed at its timeout, not when the connection freed";
  EXPECT_EQ(hang.gauge.most(), 1u);
  hang.release();
  EXPECT_EQ(first.wait().size(), 1u);
}

TEST(multi_client, with_a_wait_budget_each_request_gets_its_whole_timeout) {
  // One connection, answers that take 300 ms, and three requests whose
  // exchange may take 500 ms: the third waits ~600 ms for the connection,
  // then still gets its 500 ms. A connect timeout shorter than the wait
  // does not fail the waiting ones either (curl's would run while a
  // request waited inside it).
  timed_route route;
  loopback_server server;
  auto url = route.serve(server, 300ms);
  client_limits limits;
  limits.connections_per_host = 1;
  multi_client client{limits};
  auto req = post_to(url);
  req.connect_timeout_ms = 150;
  req.timeout_ms = 500;
  req.wait_max_ms = 5'000;
  auto all = post_and_wait(client, req, 3);
  ASSERT_EQ(all.size(), 3u);
  expect_all_ok(all);
  EXPECT_EQ(route.gauge.most(), 1u);
}

namespace {

/// A client with one connection per host, held by a request that hangs
/// until the end of the test.
struct one_connection_held {
  hanging_route hang; // before the server, which routes to it
  loopback_server server;
  std::string base = [this] {
    server.routes().Post("/hang", hang.handler());
    return server.start();
  }();
  multi_client client{[] {
    client_limits limits;
    limits.connections_per_host = 1;
    return limits;
  }()};
  answers first{1};

  one_connection_held() {
    client.post(post_to(base + "/hang"), first.collect());
    EXPECT_TRUE(hang.gauge.await_at_least(1));
  }

  ~one_connection_held() {
    hang.release();
    EXPECT_EQ(first.wait().size(), 1u);
  }
};

} // namespace

TEST(multi_client, a_wait_budget_bounds_the_wait_for_a_connection) {
  one_connection_held held;
  auto req = post_to(held.base + "/hang");
  req.wait_max_ms = 200;
  auto started = std::chrono::steady_clock::now();
  auto all = post_and_wait(held.client, req);
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].error, "timed out waiting for a connection");
  EXPECT_LT(took, 5s);
  EXPECT_EQ(held.hang.gauge.most(), 1u);
}

TEST(multi_client, one_host_is_one_host_however_its_url_is_written) {
  // Upper case, user info and an explicit port name the host the client
  // counts connections by.
  one_connection_held held;
  auto same_host = "HTTP://user:pw@127.0.0.1:"
                   + std::to_string(port_of(held.base)) + "/hang";
  auto req = post_to(same_host);
  req.wait_max_ms = 200;
  auto all = post_and_wait(held.client, req);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].error, "timed out waiting for a connection");
}
