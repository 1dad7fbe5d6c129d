#pragma once

// Closing a request's connection without answering it. cpp-httplib 0.11
// always writes a response after a handler returns and does not expose the
// socket, so the simulator finds the socket by its peer address and shuts it
// down; httplib's later write then fails and the client sees the connection
// close with no answer, as with a dead network path.

#include <string>

namespace psp::sim {

/// Shuts down this process's TCP socket whose local port is `local_port` and
/// whose peer is `remote_addr:remote_port` (any local port when
/// `local_port` <= 0). False when none was found.
bool drop_connection(const std::string& remote_addr, int remote_port,
                     int local_port);

} // namespace psp::sim
