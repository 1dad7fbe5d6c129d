#pragma once

// Shared by the HTTP tests of card-network-sim: a simulator process on a
// port it picked itself, small HTTP helpers, and a fixture that runs one
// simulator per test suite and resets it before every test.

#include "tests/support/process.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace psp::sim_test {

using json = nlohmann::json;

constexpr const char* listening_prefix = "card-network-sim listening on ";

inline std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A simulator process on a port it picked itself (--port 0), found by
// reading the one line it prints once listening.
struct sim_process {
  psp::test::temp_dir dir;
  std::string log_path = dir.path() + "/sim.log";
  psp::test::child_process child;
  int port = 0;

  explicit sim_process(std::vector<std::string> extra_args = {}) {
    std::vector<std::string> argv{SIM_BINARY, "--port", "0"};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    child = psp::test::child_process(argv, log_path);
    port = wait_for_listening_line();
  }

  int wait_for_listening_line() {
    using namespace std::chrono_literals;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto log = read_file(log_path);
      auto pos = log.find(std::string{listening_prefix} + "127.0.0.1:");
      if (pos != std::string::npos &&
          log.find('\n', pos) != std::string::npos) {
        return std::atoi(log.c_str() + log.find(':', pos) + 1);
      }
      std::this_thread::sleep_for(10ms);
    }
    return 0;
  }
};

struct http_result {
  int status = 0;
  json body;
  std::string raw;
  bool replayed = false;
  std::string content_type;
};

inline std::unique_ptr<httplib::Client> make_client(int port) {
  auto cli = std::make_unique<httplib::Client>("127.0.0.1", port);
  cli->set_connection_timeout(5, 0);
  cli->set_read_timeout(10, 0);
  cli->set_write_timeout(5, 0);
  return cli;
}

inline http_result convert(const httplib::Result& res) {
  http_result out;
  if (!res) {
    return out;
  }
  out.status = res->status;
  out.raw = res->body;
  out.body = json::parse(res->body, nullptr, false);
  out.replayed = res->get_header_value("Idempotent-Replayed") == "true";
  out.content_type = res->get_header_value("Content-Type");
  return out;
}

inline http_result post(int port, const std::string& path,
                        const std::string& body, const std::string& key = {}) {
  httplib::Headers headers;
  if (!key.empty()) {
    headers.emplace("Idempotency-Key", key);
  }
  return convert(
      make_client(port)->Post(path.c_str(), headers, body, "application/json"));
}

inline http_result get(int port, const std::string& path) {
  return convert(make_client(port)->Get(path.c_str()));
}

inline http_result del(int port, const std::string& path) {
  return convert(make_client(port)->Delete(path.c_str()));
}

inline json charge_body(const std::string& card, int64_t amount = 2000,
                        const std::string& reference = "pi_1") {
  return {{"amount", amount},        {"currency", "usd"},
          {"card_number", card},     {"exp_month", 12},
          {"exp_year", 2030},        {"cvc", "123"},
          {"merchant", "acct_test"}, {"reference", reference}};
}

/// A charge body that only authorises (`"capture": false`).
inline json auth_body(const std::string& card, int64_t amount = 2000,
                      const std::string& reference = "pi_1") {
  auto body = charge_body(card, amount, reference);
  body["capture"] = false;
  return body;
}

// One simulator per test suite; every test starts from a reset.
class SimTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    sim_ = new sim_process();
    ASSERT_GT(sim_->port, 0) << read_file(sim_->log_path);
  }

  static void TearDownTestSuite() {
    delete sim_;
    sim_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(sim_, nullptr);
    ASSERT_EQ(post(port(), "/admin/reset", "").status, 200);
  }

  static int port() { return sim_->port; }

  http_result charge(const std::string& key, const json& body) {
    return post(port(), "/v1/charges", body.dump(), key);
  }

  http_result refund(const std::string& key, const std::string& charge_id,
                     int64_t amount) {
    json body{{"charge", charge_id}, {"amount", amount}};
    return post(port(), "/v1/refunds", body.dump(), key);
  }

  /// POST /v1/charges/{id}/capture with `body` (empty = full amount).
  http_result capture(const std::string& key, const std::string& charge_id,
                      const std::string& body = {}) {
    return post(port(), "/v1/charges/" + charge_id + "/capture", body, key);
  }

  http_result void_charge(const std::string& key,
                          const std::string& charge_id) {
    return post(port(), "/v1/charges/" + charge_id + "/void", "", key);
  }

  /// Authorises `amount` with `key` and returns the charge id.
  std::string authorise(const std::string& key, int64_t amount = 2000,
                        const std::string& reference = "pi_1") {
    auto res = charge(key, auth_body("4242424242424242", amount, reference));
    EXPECT_EQ(res.status, 200) << res.raw;
    return res.body.value("id", "");
  }

  void set_faults(const json& knobs) {
    ASSERT_EQ(post(port(), "/admin/faults", knobs.dump()).status, 200);
  }

  json counts() { return get(port(), "/admin/charge_counts").body; }

  json settlement(const std::string& query = {}) {
    return get(port(), "/admin/settlement" + query).body;
  }

  json charge_rows() { return get(port(), "/admin/charges").body["charges"]; }

  size_t recorded_charges() { return charge_rows().size(); }

  static std::string log_text() { return read_file(sim_->log_path); }

  inline static sim_process* sim_ = nullptr;
};

} // namespace psp::sim_test
