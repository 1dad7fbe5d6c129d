// Goal: a merchant's webhook endpoints reach only what is theirs: an
// endpoint that hangs does not hold back another merchant's webhooks, and
// none can make the node POST into its own network or multiply its POSTs
// without bound. Deliveries share the node's webhook client, whose
// connection limit is per endpoint host (decision 24); with a shared pool of
// blocking workers, the hanging endpoint's deliveries would occupy every
// worker until their timeout. A node as in production (no
// --psp.webhook-private-addresses) refuses loopback, private and link-local
// URLs when an endpoint is written and every such address when it connects,
// and caps a merchant's endpoints at 16 (decision 48, after an audit showed
// a URL on 127.0.0.1 wiping the card network simulator's data).

#include "tests/support/stack_suite.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

namespace psp::test {
namespace {

using namespace std::chrono_literals;

/// A webhook receiver on loopback (or on `host`, an address of this
/// machine); with `hang` set, every request waits until release() (or the
/// fixture's end).
class receiver {
public:
  explicit receiver(bool hang, const std::string& host = "127.0.0.1")
    : hang_(hang), host_(host) {
    server_.new_task_queue = [] { return new httplib::ThreadPool(32); };
    server_.Post("/hook", [this](const httplib::Request& req,
                                 httplib::Response& res) {
      std::unique_lock<std::mutex> lock{mutex_};
      ++arrived_;
      bodies_.push_back(req.body);
      changed_.notify_all();
      if (hang_) {
        changed_.wait_for(lock, 60s, [this] { return released_; });
      }
      ++answered_;
      res.set_content("{}", "application/json");
    });
    port_ = server_.bind_to_any_port(host_);
    if (port_ > 0) {
      thread_ = std::thread{[this] { server_.listen_after_bind(); }};
    }
  }

  ~receiver() {
    release();
    server_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  int port() const { return port_; }

  std::string url() const {
    return "http://" + host_ + ":" + std::to_string(port_) + "/hook";
  }

  size_t arrived() {
    std::lock_guard<std::mutex> guard{mutex_};
    return arrived_;
  }

  void release() {
    std::lock_guard<std::mutex> guard{mutex_};
    released_ = true;
    changed_.notify_all();
  }

  /// Waits until `n` requests have arrived (false after `timeout`).
  bool await_arrivals(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock{mutex_};
    return changed_.wait_for(lock, timeout, [&] { return arrived_ >= n; });
  }

  size_t answered() {
    std::lock_guard<std::mutex> guard{mutex_};
    return answered_;
  }

  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> guard{mutex_};
    return bodies_;
  }

private:
  bool hang_;
  std::string host_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  size_t arrived_ = 0;
  size_t answered_ = 0;
  bool released_ = false;
  std::vector<std::string> bodies_;
};

void add_endpoint(psp_stack& stack, const std::string& url,
                  const std::string& key) {
  auto r = stack.api_post("/v1/webhook_endpoints",
                          {{"url", url},
                           {"enabled_events[]", "payment_intent.succeeded"}},
                          0, key);
  ASSERT_EQ(r.status, 200) << r.body;
}

std::string pay_intent(psp_stack& stack, const std::string& key) {
  auto r = stack.api_post("/v1/payment_intents",
                          {{"amount", "1500"},
                           {"currency", "usd"},
                           {"payment_method", "pm_card_visa"},
                           {"confirm", "true"}},
                          0, key);
  EXPECT_EQ(r.status, 200) << r.body;
  return json::parse(r.body, nullptr, false).value("id", "");
}

} // namespace

TEST(webhook_isolation, a_hanging_endpoint_holds_back_only_its_merchant) {
  stack_options opts;
  // Far longer than the test waits: a delivery stuck behind the hanging
  // endpoint could only get out by its timeout.
  opts.node_args = {"--psp.webhook-timeout-ms=45000",
                    "--psp.webhook-connections=2"};
  psp_stack stack{opts};
  receiver hanging{true};
  receiver healthy{false};
  auto other = stack.create_merchant("Other Shop");
  add_endpoint(stack, hanging.url(), stack.secret_key());
  add_endpoint(stack, healthy.url(), other.secret_key);

  // More deliveries to the hanging endpoint than the node ever had webhook
  // workers (8): with a shared pool, all of them would be stuck.
  constexpr size_t stuck_payments = 12;
  for (size_t i = 0; i < stuck_payments; ++i) {
    pay_intent(stack, stack.secret_key());
  }
  ASSERT_TRUE(hanging.await_arrivals(2, 20s)) << "no delivery reached the "
                                                 "hanging endpoint";

  auto other_intent = pay_intent(stack, other.secret_key);
  ASSERT_FALSE(other_intent.empty());
  ASSERT_TRUE(healthy.await_arrivals(1, 30s))
    << "the other merchant's webhook did not arrive while the first "
       "merchant's endpoint hung";
  EXPECT_EQ(hanging.answered(), 0u) << "the hanging endpoint was released "
                                       "early; the test proves nothing";
  auto bodies = healthy.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  auto event = json::parse(bodies[0], nullptr, false);
  EXPECT_EQ(event.value("type", ""), "payment_intent.succeeded");
  EXPECT_EQ(event["data"]["object"].value("id", ""), other_intent);
  hanging.release();
}

// -- egress: a node as in production ------------------------------------------

namespace {

/// A node that refuses private webhook addresses, as in production.
class webhook_egress : public stack_suite {
protected:
  static void SetUpTestSuite() {
    stack_options opts;
    opts.webhook_private_addresses = false;
    start_stack(opts);
  }

  /// A merchant of its own, so no other test's endpoints count or receive.
  merchant_account fresh_merchant(const std::string& name) {
    return stack().create_merchant(name);
  }

  http_reply create_endpoint(const std::string& key, const std::string& url,
                             const std::string& event = "refund.failed") {
    return stack().api_post("/v1/webhook_endpoints",
                            {{"url", url}, {"enabled_events[]", event}}, 0,
                            key);
  }

  /// Pays an intent of the merchant's and waits until the delivery of its
  /// payment_intent.succeeded to `endpoint_id` is dead (every try of the
  /// schedule made); that delivery's record, if it got there.
  std::optional<psp_stack::delivery_record>
  dead_delivery_to(const std::string& key, const std::string& endpoint_id) {
    EXPECT_FALSE(pay_intent(stack(), key).empty());
    std::optional<psp_stack::delivery_record> last;
    wait_until(
      [&] {
        for (auto& [id, d] : stack().webhook_deliveries()) {
          auto colon = id.rfind(':');
          if (id.substr(colon + 1) == endpoint_id) {
            last = d;
            return d.status == "dead";
          }
        }
        return false;
      },
      20s, 100ms);
    return last;
  }
};

void expect_url_refused(const http_reply& r, const std::string& url) {
  EXPECT_EQ(r.status, 400) << url << " -> " << r.body;
  auto doc = r.body_json();
  ASSERT_TRUE(doc.is_object() && doc["error"].is_object())
    << url << " -> " << r.body;
  auto err = doc["error"];
  EXPECT_EQ(err.value("type", ""), "invalid_request_error") << r.body;
  EXPECT_EQ(err.value("param", ""), "url") << r.body;
  EXPECT_NE(err.value("message", "").find("Invalid URL"), std::string::npos)
    << r.body;
}

/// A host name, not localhost (refused by its name), that this machine's
/// resolver maps to an address of its own network, and that address (the
/// machine's own name is in /etc/hosts on most systems: 127.0.0.1,
/// Debian's 127.0.1.1, a container's 172.17.0.x).
std::optional<std::pair<std::string, std::string>> name_resolving_here() {
  std::vector<std::string> names;
  char own[256] = {0};
  if (::gethostname(own, sizeof(own) - 1) == 0 && own[0] != '\0') {
    names.emplace_back(own);
  }
  names.emplace_back("localhost.localdomain");
  for (auto& name : names) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(name.c_str(), nullptr, &hints, &found) != 0) {
      continue;
    }
    std::string address;
    bool all_local = found != nullptr;
    for (auto* a = found; a != nullptr; a = a->ai_next) {
      sockaddr_in in{};
      std::memcpy(&in, a->ai_addr, sizeof(in));
      uint32_t v = ntohl(in.sin_addr.s_addr);
      bool local = (v >> 24) == 127 || (v >> 24) == 10
                   || (v & 0xFFF00000) == 0xAC100000
                   || (v & 0xFFFF0000) == 0xC0A80000;
      all_local = all_local && local;
      char text[INET_ADDRSTRLEN] = {0};
      if (address.empty()
          && ::inet_ntop(AF_INET, &in.sin_addr, text, sizeof(text))) {
        address = text;
      }
    }
    ::freeaddrinfo(found);
    if (all_local && !address.empty()) {
      return std::make_pair(name, address);
    }
  }
  return std::nullopt;
}

} // namespace

TEST_F(webhook_egress, a_url_on_the_nodes_own_network_is_refused) {
  auto shop = fresh_merchant("Egress Shop");
  auto port = std::to_string(stack().sim_port());
  // What the audit sent, and the forms around it a resolver also reads.
  const std::vector<std::string> urls{
    stack().sim_url() + "/admin/reset",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]:" + std::to_string(stack().redis_port()) + "/",
    "http://10.1.2.3/hook",
    "http://172.16.0.9/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",
    "http://0.0.0.0:" + port + "/admin/reset",
    "http://localhost:" + port + "/admin/reset",
    "http://LOCALHOST.:" + port + "/admin/reset",
    "http://psp.localhost/hook",
    "http://[::ffff:127.0.0.1]:" + port + "/admin/reset",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://127.1:" + port + "/admin/reset",
    "http://0x7f.0.0.1:" + port + "/admin/reset",
    "http://2130706433:" + port + "/admin/reset",
    "https://user:pw@127.0.0.1:" + port + "/admin/reset",
  };
  for (auto& url : urls) {
    expect_url_refused(create_endpoint(shop.secret_key, url), url);
  }
  auto list = stack().api_get("/v1/webhook_endpoints", 0, shop.secret_key);
  EXPECT_TRUE(list.body_json()["data"].empty()) << list.body;

  // A public one is taken, and cannot be moved onto the node's network.
  auto made = create_endpoint(shop.secret_key, "https://hooks.example/psp");
  ASSERT_EQ(made.status, 200) << made.body;
  auto id = made.body_json().value("id", "");
  for (auto& url : urls) {
    expect_url_refused(stack().api_post("/v1/webhook_endpoints/" + id,
                                        {{"url", url}}, 0, shop.secret_key),
                       url);
  }
  auto kept = stack().api_get("/v1/webhook_endpoints/" + id, 0,
                              shop.secret_key);
  EXPECT_EQ(kept.body_json().value("url", ""), "https://hooks.example/psp")
    << kept.body;
}

TEST_F(webhook_egress, a_name_that_resolves_here_gets_no_post) {
  auto here = name_resolving_here();
  if (!here) {
    // The premise, not the product: the stored-URL test below still checks
    // the connect-time refusal.
    GTEST_SKIP() << "no host name resolves to an address of this machine's "
                    "network here (tried the machine's own name and "
                    "localhost.localdomain)";
  }
  auto& [name, address] = *here;
  receiver target{false, address};
  ASSERT_GT(target.port(), 0) << "cannot listen on " << address;
  auto shop = fresh_merchant("Rebinding Shop");
  // A name is judged by what it resolves to when the node connects: DNS
  // can say anything, and say it differently later.
  auto url = "http://" + name + ":" + std::to_string(target.port()) + "/hook";
  auto made = create_endpoint(shop.secret_key, url,
                              "payment_intent.succeeded");
  ASSERT_EQ(made.status, 200) << made.body;
  auto record = dead_delivery_to(shop.secret_key,
                                 made.body_json().value("id", ""));
  ASSERT_TRUE(record.has_value()) << "no delivery was recorded";
  EXPECT_EQ(record->status, "dead") << record->last_error;
  // Every try of the schedule (0s,200ms,500ms) was made and refused.
  EXPECT_EQ(record->attempts, "3");
  EXPECT_EQ(record->last_error, "address not allowed: " + address);
  EXPECT_EQ(target.arrived(), 0u) << url << " got the webhook";
}

TEST_F(webhook_egress, an_endpoint_stored_on_a_private_address_gets_no_post) {
  // Registered before the fix, or while a node allowed private addresses:
  // the address is checked again when the node connects.
  receiver target{false};
  auto shop = fresh_merchant("Legacy Shop");
  auto made = create_endpoint(shop.secret_key, "https://hooks.example/old",
                              "payment_intent.succeeded");
  ASSERT_EQ(made.status, 200) << made.body;
  auto id = made.body_json().value("id", "");
  auto set = stack().redis_cmd({"HSET", "we:" + id, "url", target.url()});
  ASSERT_TRUE(set && set->ok());
  auto record = dead_delivery_to(shop.secret_key, id);
  ASSERT_TRUE(record.has_value()) << "no delivery was recorded";
  EXPECT_EQ(record->status, "dead") << record->last_error;
  EXPECT_EQ(record->last_error, "address not allowed: 127.0.0.1");
  EXPECT_EQ(target.arrived(), 0u) << target.url() << " got the webhook";
  auto dead = stack().dead_letters_of("webhook");
  EXPECT_TRUE(std::any_of(dead.begin(), dead.end(), [](const json& e) {
    return e.dump().find("address not allowed") != std::string::npos;
  })) << stack().dead_letters().dump();
}

TEST_F(webhook_egress, a_merchant_has_at_most_16_endpoints) {
  auto shop = fresh_merchant("Many Hooks Shop");
  // All at once: the count is checked in the step that adds, so racing
  // creates cannot pass it together.
  constexpr int tries = 24;
  std::vector<http_reply> replies(tries);
  std::vector<std::thread> senders;
  for (int i = 0; i < tries; ++i) {
    senders.emplace_back([&, i] {
      replies[static_cast<size_t>(i)] = create_endpoint(
        shop.secret_key, "https://hooks.example/" + std::to_string(i));
    });
  }
  for (auto& t : senders) {
    t.join();
  }
  int made = 0;
  std::string last_made;
  for (auto& r : replies) {
    if (r.status == 200) {
      ++made;
      last_made = r.body_json().value("id", "");
      continue;
    }
    EXPECT_EQ(r.status, 400) << r.body;
    auto doc = r.body_json();
    ASSERT_TRUE(doc.is_object() && doc["error"].is_object()) << r.body;
    auto err = doc["error"];
    EXPECT_EQ(err.value("type", ""), "invalid_request_error") << r.body;
    EXPECT_NE(err.value("message", "").find("maximum of 16 webhook endpoints"),
              std::string::npos)
      << r.body;
  }
  EXPECT_EQ(made, 16);
  auto list = stack().api_get("/v1/webhook_endpoints?limit=100", 0,
                            shop.secret_key);
  EXPECT_EQ(list.body_json()["data"].size(), 16u) << list.body;

  // The 17th again, then room made by a delete.
  EXPECT_EQ(create_endpoint(shop.secret_key, "https://hooks.example/17").status,
            400);
  http_request del;
  del.method = "DELETE";
  del.path = "/v1/webhook_endpoints/" + last_made;
  del.bearer = shop.secret_key;
  ASSERT_EQ(http_call(stack().node_url(), del).status, 200);
  auto again = create_endpoint(shop.secret_key, "https://hooks.example/17");
  EXPECT_EQ(again.status, 200) << again.body;
  // Another merchant's endpoints do not count.
  auto other = fresh_merchant("Other Hooks Shop");
  EXPECT_EQ(create_endpoint(other.secret_key, "https://hooks.example/x").status,
            200);
}

} // namespace psp::test
