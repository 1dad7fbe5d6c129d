#pragma once

// The node's own loop over one HTTP connection, in place of cpp-httplib
// 0.11's, for two things that library cannot do (found by a security audit):
// - bound what one request may make the server read: its line reader grows
//   a request or header line until it sees a newline (300 MB without one
//   grew a node to 564 MB before a 414), so a request that reads more than
//   `request_bytes_max` fails and its connection closes;
// - close a connection after an answer that left its body unread (the 411
//   and 415 of api_server.cpp): the library decides to close from the
//   request's own Connection header only, so the unread body was parsed as
//   the next request, and a body could smuggle one past a proxy.
// An idle keep-alive connection also waits in one poll per 100 ms instead
// of the library's ~90 wake-ups a second.

#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <functional>

namespace psp::http {

struct connection_limits {
  size_t keep_alive_requests_max = 10'000;
  uint32_t keep_alive_timeout_ms = 2'000;
  uint32_t read_timeout_ms = 10'000;
  uint32_t write_timeout_ms = 10'000;
  /// Bytes one request may read: request line, headers and body.
  size_t request_bytes_max = 128 * 1024;
};

/// Serves requests from `sock` until the client closes, a request fails or
/// asks to close, `stopping()` or the limits say so; does not close `sock`.
/// `serve_one(stream, last, closed)` is cpp-httplib's process_request.
void serve_connection(
  int sock, const connection_limits& limits,
  const std::function<bool()>& stopping,
  const std::function<bool(httplib::Stream&, bool, bool&)>& serve_one);

/// Called while a request is being handled (on its thread): the connection
/// closes after this answer.
void close_after_this_answer();

} // namespace psp::http
