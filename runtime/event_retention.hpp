#pragma once

// Each merchant's event list (`merchant:<id>:events`, what GET /v1/events
// pages through) keeps the events of the last `retention_days`, as Stripe
// lists the last 30 days; older entries are dropped once a minute by every
// node (the same ZREMRANGEBYSCORE: harmless twice). The events themselves
// stay retrievable by id, live or archived: only the list forgets them.
// Without it the list kept ~350 B a paid payment for good (the capacity
// audit: 3 GB a day at 100 payments/s).

#include "adapters/redis/redis_connection.hpp"
#include "runtime/periodic_thread.hpp"

#include <cstdint>

namespace psp {

struct event_retention_settings {
  redis::endpoint where;
  uint32_t redis_timeout_ms = 2'000;
  uint32_t retention_days = 30;
  uint32_t interval_ms = 60'000;
};

class event_retention {
public:
  explicit event_retention(event_retention_settings cfg);

  void start() { thread_.start(); }
  void stop() { thread_.stop(); }

private:
  void round();

  event_retention_settings cfg_;
  redis::connection conn_;
  // Last: stopped (joined) before the members its rounds use are destroyed.
  periodic_thread thread_;
};

} // namespace psp
