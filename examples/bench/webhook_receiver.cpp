#include "webhook_receiver.hpp"

#include "bench_clock.hpp"
#include "signature_check.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <ctime>
#include <iostream>

namespace bench {

webhook_receiver::webhook_receiver(int threads)
  : srv_(std::make_unique<httplib::Server>()), threads_(threads) {
}

webhook_receiver::~webhook_receiver() {
  stop();
}

bool webhook_receiver::start(std::string& err) {
  auto& srv = *srv_;
  srv.set_tcp_nodelay(true);
  srv.set_keep_alive_max_count(100'000);
  // Long, so the PSP's senders never reconnect during a run: cpp-httplib
  // listens with a backlog of 5, and a burst of reconnects loses SYNs
  // (1 s each). stop() then waits this long for idle connections, so
  // payment-bench ends without it (see main).
  srv.set_keep_alive_timeout(120);
  srv.set_payload_max_length(1 << 20);
  auto threads = static_cast<size_t>(threads_);
  srv.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  srv.Post("/webhook", [this](const httplib::Request& req,
                              httplib::Response& res) {
    int status = 200;
    on_webhook(req.get_header_value("Stripe-Signature"), req.body, status);
    res.status = status;
    res.set_content(status == 200 ? "ok" : "bad signature", "text/plain");
  });
  port_ = srv.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) {
    err = "webhook receiver cannot listen on 127.0.0.1";
    return false;
  }
  thread_ = std::thread{[this] { srv_->listen_after_bind(); }};
  return true;
}

void webhook_receiver::stop() {
  if (thread_.joinable()) {
    srv_->stop();
    thread_.join();
  }
}

std::string webhook_receiver::url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/webhook";
}

void webhook_receiver::set_secret(const std::string& secret) {
  std::lock_guard<std::mutex> guard{mtx_};
  secret_ = secret;
}

void webhook_receiver::track(std::shared_ptr<payment_table> table) {
  std::lock_guard<std::mutex> guard{mtx_};
  table_ = std::move(table);
}

receiver_counts webhook_receiver::counts() const {
  return {received_, verified_, bad_signature_, other_type_, unknown_,
          repeats_};
}

void webhook_receiver::on_webhook(const std::string& signature,
                                  const std::string& body, int& status) {
  auto now_ns = mono_ns();
  ++received_;
  std::string secret;
  std::shared_ptr<payment_table> table;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    secret = secret_;
    table = table_;
  }
  auto verdict = check_stripe_signature(signature, body, secret,
                                        static_cast<int64_t>(std::time(nullptr)));
  if (verdict != signature_verdict::ok) {
    if (bad_signature_++ < 3) {
      std::cerr << "payment-bench: webhook refused: " << to_string(verdict)
                << "\n";
    }
    status = 400;
    return;
  }
  ++verified_;
  auto event = nlohmann::json::parse(body, nullptr, false);
  if (!event.is_object() || event.value("type", "") != "payment_intent.succeeded"
      || !event["data"].is_object() || !event["data"]["object"].is_object()) {
    ++other_type_;
    return;
  }
  auto intent = event["data"]["object"].value("id", "");
  auto* slot = table ? table->find(intent) : nullptr;
  if (slot == nullptr) {
    ++unknown_;
    return;
  }
  if (!table->complete(*slot, now_ns)) {
    ++repeats_;
  }
}

} // namespace bench
