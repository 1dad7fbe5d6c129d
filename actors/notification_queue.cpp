#include "actors/notification_queue.hpp"

#include "actors/payment_logic.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>

namespace psp {

namespace {

using notify_tick_atom = caf::atom_constant<caf::atom("ntick")>;

struct notification_state {
  static inline const char* name = "psp.notification_queue";
  delivery_store store;
  webhook_sender sender;
  notification_limits limits;
  int64_t (*now_ms)() = nullptr;
  uint32_t in_flight = 0;
  bool claiming = false;
  bool poll_again = false;
  /// Outcomes waiting to be recorded while a record call is in flight: under
  /// load they go to Redis together, at low load each goes at once.
  std::vector<delivery_report> unrecorded;
  bool recording = false;
};

using self_ptr = caf::stateful_actor<notification_state>*;

std::chrono::milliseconds timeout(self_ptr self) {
  return std::chrono::milliseconds{self->state.limits.request_timeout_ms};
}

void poll(self_ptr self);

void flush_records(self_ptr self) {
  auto& st = self->state;
  if (st.recording || st.unrecorded.empty()) {
    return;
  }
  st.recording = true;
  auto batch = std::move(st.unrecorded);
  st.unrecorded.clear();
  auto n = static_cast<uint32_t>(batch.size());
  // A failed record leaves the claims to expire: the deliveries are tried
  // again (at least once; receivers dedupe by event id).
  self->request(st.store, timeout(self), record_atom::value, std::move(batch))
    .then(
      [=](bool) {
        auto& s = self->state;
        s.in_flight -= n;
        s.recording = false;
        flush_records(self);
        poll(self);
      },
      [=](caf::error&) {
        auto& s = self->state;
        s.in_flight -= n;
        s.recording = false;
        flush_records(self);
      });
}

void record(self_ptr self, const webhook_delivery& d,
            const delivery_attempt& res) {
  auto& st = self->state;
  delivery_report rep;
  rep.delivery_id = d.delivery_id;
  rep.delivered = res.delivered;
  rep.attempts = d.attempts_before + 1;
  if (!res.delivered) {
    rep.last_error = res.error.empty()
                       ? "HTTP " + std::to_string(res.http_status)
                       : res.error;
    rep.next_attempt_ms = next_delivery_ms(st.now_ms(), rep.attempts,
                                           st.limits.schedule_ms);
  }
  st.unrecorded.push_back(std::move(rep));
  flush_records(self);
}

void deliver(self_ptr self, webhook_delivery& d) {
  ++self->state.in_flight;
  self->request(self->state.sender, timeout(self), send_atom::value, d)
    .then([=](const delivery_attempt& res) { record(self, d, res); },
          [=](caf::error& err) {
            record(self, d, delivery_attempt{false, 0, to_string(err)});
          });
}

void poll(self_ptr self) {
  auto& st = self->state;
  if (st.claiming) {
    st.poll_again = true;
    return;
  }
  auto room = st.limits.in_flight_max - st.in_flight;
  if (room == 0) {
    return;
  }
  st.claiming = true;
  st.poll_again = false;
  self->request(st.store, timeout(self), claim_atom::value, room)
    .then(
      [=](std::vector<webhook_delivery>& due) {
        self->state.claiming = false;
        for (auto& d : due) {
          deliver(self, d);
        }
        if (self->state.poll_again || due.size() == room) {
          poll(self);
        }
      },
      [=](caf::error&) { self->state.claiming = false; });
}

caf::behavior notification_queue(self_ptr self, delivery_store store,
                                 webhook_sender sender,
                                 notification_limits limits,
                                 int64_t (*now_ms)()) {
  auto& st = self->state;
  st.store = std::move(store);
  st.sender = std::move(sender);
  st.limits = std::move(limits);
  if (st.limits.schedule_ms.empty()) {
    st.limits.schedule_ms = default_webhook_schedule_ms();
  }
  st.now_ms = now_ms;
  self->send(self, notify_tick_atom::value);
  return {
    [=](poll_atom) { poll(self); },
    [=](notify_tick_atom) {
      poll(self);
      self->delayed_send(
        self, std::chrono::milliseconds{self->state.limits.poll_interval_ms},
        notify_tick_atom::value);
    },
    [=](stats_atom) { return static_cast<uint64_t>(self->state.in_flight); },
  };
}

} // namespace

caf::actor spawn_notification_queue(caf::actor_system& sys,
                                    delivery_store store,
                                    webhook_sender sender,
                                    notification_limits limits,
                                    int64_t (*now_ms)()) {
  return sys.spawn(notification_queue, std::move(store), std::move(sender),
                   std::move(limits), now_ms);
}

} // namespace psp
