#include "actors/payment_queue.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>

namespace psp {

namespace {

struct queue_state {
  static inline const char* name = "psp.payment_queue";
  payment_stream stream;
  caf::actor router;
  payment_queue_limits limits;
  uint32_t in_flight = 0;
  bool reading = false;
};

using self_ptr = caf::stateful_actor<queue_state>*;

void read_more(self_ptr self);

void pause_then_read(self_ptr self) {
  self->delayed_send(self,
                     std::chrono::milliseconds{self->state.limits.idle_retry_ms},
                     read_atom::value);
}

void dispatch(self_ptr self, payment_job& job) {
  auto& st = self->state;
  ++st.in_flight;
  auto job_timeout = std::chrono::milliseconds{st.limits.job_timeout_ms};
  // Whatever the answer, the entry is either acknowledged by now or stays
  // pending in Redis and comes back through the reclaim path: no loss.
  self->request(st.router, job_timeout, process_atom::value, std::move(job))
    .then(
      [=](bool) {
        --self->state.in_flight;
        read_more(self);
      },
      [=](caf::error&) {
        --self->state.in_flight;
        read_more(self);
      });
}

void read_more(self_ptr self) {
  auto& st = self->state;
  if (st.reading) {
    return;
  }
  auto room = st.limits.in_flight_max - st.in_flight;
  if (room == 0) {
    return; // a finishing job calls read_more again
  }
  st.reading = true;
  auto n = std::min(room, st.limits.batch_max);
  self
    ->request(st.stream, std::chrono::milliseconds{st.limits.read_timeout_ms},
              read_atom::value, n)
    .then(
      [=](std::vector<payment_job>& jobs) {
        self->state.reading = false;
        for (auto& job : jobs) {
          dispatch(self, job);
        }
        read_more(self);
      },
      [=](caf::error&) {
        self->state.reading = false;
        pause_then_read(self);
      });
}

caf::behavior payment_queue(self_ptr self, payment_stream stream,
                            caf::actor router, payment_queue_limits limits) {
  self->state.stream = std::move(stream);
  self->state.router = std::move(router);
  self->state.limits = limits;
  self->send(self, read_atom::value);
  return {
    [=](read_atom) { read_more(self); },
    [=](stats_atom) { return static_cast<uint64_t>(self->state.in_flight); },
  };
}

} // namespace

caf::actor spawn_payment_queue(caf::actor_system& sys, payment_stream stream,
                               caf::actor router,
                               payment_queue_limits limits) {
  return sys.spawn(payment_queue, std::move(stream), std::move(router), limits);
}

} // namespace psp
