#pragma once

// Many HTTP requests in flight on one thread (libcurl's multi interface).
// Concurrency comes from keep-alive connections, not from a thread per
// connection: a node with a blocking client completes at most
// threads ÷ network latency requests per second (16 ÷ 0.2 s = 80 /s), and
// each thread costs two context switches per request.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace psp::http_client {

struct post_request {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type = "application/json";
  uint32_t connect_timeout_ms = 2'000;
  /// The exchange. With `wait_max_ms` 0 it counts from post(), a wait for a
  /// free connection included; otherwise from the moment it starts.
  uint32_t timeout_ms = 10'000;
  /// How long it may wait for a free connection to its host before it
  /// starts (it then fails with "timed out waiting for a connection"). 0:
  /// the wait comes out of `timeout_ms`. A webhook endpoint gets its whole
  /// timeout however long the deliveries before it took.
  uint32_t wait_max_ms = 0;
};

struct post_response {
  /// 0 when no HTTP answer arrived; `error` then says why.
  int32_t status = 0;
  std::string body;
  std::string error;
};

struct client_limits {
  /// Open connections per host (scheme, host and port): the concurrency
  /// towards one server. More requests than this wait in the client, in
  /// order, until one of that host's transfers ends; curl itself never
  /// queues one (its connect timeout would run while it waited).
  size_t connections_per_host = 64;
  /// Below `connections_per_host`: the cap adapts to demand, for a client
  /// that talks to one host. It starts here, doubles after each
  /// `grow_window_ms` in which requests waited for a connection at least
  /// half of the time, and halves after a second in which at most half of
  /// it was in use. A thread-per-connection server (cpp-httplib) wakes ~90
  /// times a second for each idle keep-alive connection, so a pool sized
  /// for the slowest network would cost such a server CPU the rest of the
  /// time (docs/performance.md).
  size_t connections_min = 64;
  uint32_t grow_window_ms = 100;
  /// Idle connections kept open across all hosts.
  size_t connections_cached = 256;
  /// A longer answer fails the request (a server that is not ours could
  /// send any amount).
  size_t response_bytes_max = 1 << 20;
  /// False: answers' bodies are read and dropped (webhook endpoints: only
  /// the status counts), and no length fails the request.
  bool keep_body = true;
  /// True: the client connects only to public internet addresses
  /// (address_policy.hpp), judged on each address after DNS, so a name that
  /// resolves or rebinds to a private one is caught too; such a request
  /// fails with "address not allowed: <address>", and no proxy from the
  /// environment is used (it would connect on the client's behalf, unseen).
  /// For webhooks, whose URLs merchants choose (decision 48); the card
  /// network is the operator's, on loopback in every local setup.
  bool public_addresses_only = false;
  /// The client thread's name (at most 15 characters).
  const char* thread_name = "psp.httpclient";
};

/// Runs on the client's thread, once per request; must not block.
using post_completion = std::function<void(post_response)>;

class multi_client {
public:
  explicit multi_client(client_limits limits);
  /// Stops the thread; requests still open complete with an error.
  ~multi_client();

  multi_client(const multi_client&) = delete;
  multi_client& operator=(const multi_client&) = delete;

  /// Thread-safe. Only http and https URLs are followed; no redirects.
  void post(post_request req, post_completion done);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace psp::http_client
