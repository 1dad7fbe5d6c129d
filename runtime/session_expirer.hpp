#pragma once

// The node's share of the session expiry sweep
// (adapters/redis/session_expiry.hpp), on a thread of its own. Every node
// runs one; the sweep is one Lua step, so two nodes never expire a session
// twice, and one node is enough to keep up.

#include "adapters/redis/redis_connection.hpp"
#include "runtime/periodic_thread.hpp"

#include <cstdint>

namespace psp {

struct session_expirer_settings {
  redis::endpoint where;
  uint32_t redis_timeout_ms = 2'000;
  uint32_t interval_ms = 1'000;
  /// Queue expired sessions for the archive (the archive is on).
  bool queue_for_archive = false;
};

class session_expirer {
public:
  explicit session_expirer(session_expirer_settings cfg);

  void start() { thread_.start(); }
  void stop() { thread_.stop(); }

private:
  void round();

  session_expirer_settings cfg_;
  redis::connection conn_;
  // Last: stopped (joined) before the members its rounds use are destroyed.
  periodic_thread thread_;
};

} // namespace psp
