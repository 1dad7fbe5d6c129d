#pragma once

// The HTTP server settings for the simulator, chosen around cpp-httplib
// 0.11's defaults that hurt a load-test target.

#include "sim_options.hpp"

#include <httplib.h>

namespace psp::sim {

/// Largest accepted request body.
constexpr size_t payload_length_max = 64 * 1024;

/// Requests served on one keep-alive connection before it is closed.
constexpr size_t keep_alive_requests_max = 10'000;

/// Idle time before a keep-alive connection is closed. Each open connection
/// pins a worker thread and shutdown waits for idle ones, so keep it short.
constexpr time_t keep_alive_idle_s = 2;

/// Read and write timeouts of a connection.
constexpr time_t socket_timeout_s = 10;

/// Pending connections the kernel queues for accept().
constexpr int listen_backlog = 1024;

/// httplib::Server that can widen the listen backlog after binding.
class sim_http_server : public httplib::Server {
public:
  /// httplib 0.11 listens with a backlog of 5, so a burst of concurrent
  /// connects waits for SYN retransmits (a second or more). Calling listen()
  /// again on a listening socket updates the backlog on Linux.
  bool widen_backlog(int backlog);
};

/// Applies timeouts, limits and a thread pool of `options.threads`.
void configure_server(sim_http_server& server, const sim_options& options);

/// Binds to `options.host:options.port` (0 = any free port). Returns the
/// bound port or -1.
int bind_server(sim_http_server& server, const sim_options& options);

} // namespace psp::sim
