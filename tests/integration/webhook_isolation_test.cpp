// Goal: one merchant's endpoint that hangs does not hold back another
// merchant's webhooks. Deliveries share the node's webhook client, whose
// connection limit is per endpoint host (decision 24); with a shared pool of
// blocking workers, the hanging endpoint's deliveries would occupy every
// worker until their timeout.

#include "tests/support/psp_stack.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace psp::test {
namespace {

using namespace std::chrono_literals;

/// A webhook receiver on loopback; with `hang` set, every request waits
/// until release() (or the fixture's end).
class receiver {
public:
  explicit receiver(bool hang) : hang_(hang) {
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
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread{[this] { server_.listen_after_bind(); }};
  }

  ~receiver() {
    release();
    server_.stop();
    thread_.join();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/hook";
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

} // namespace psp::test
