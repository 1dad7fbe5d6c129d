#include "actors/notification_queue.hpp"

#include "actors/payment_logic.hpp"
#include "actors/payment_queue.hpp" // quorum_atom

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <chrono>
#include <iterator>

namespace psp {

namespace {

using notify_tick_atom = caf::atom_constant<caf::atom("ntick")>;
using record_retry_atom = caf::atom_constant<caf::atom("nrecretry")>;

constexpr uint32_t record_retry_first_ms = 100;
constexpr uint32_t record_retry_max_ms = 2'000;

struct notification_state {
  static inline const char* name = "psp.notification_queue";
  delivery_store store;
  webhook_sender sender;
  notification_limits limits;
  std::string node_id;
  int64_t (*now_ms)() = nullptr;
  uint32_t in_flight = 0;
  bool claiming = false;
  bool started = false; ///< claims and releases (after registering)
  bool poll_again = false;
  /// Outcomes waiting to be recorded while a record call is in flight: under
  /// load they go to Redis together, at low load each goes at once.
  std::vector<delivery_report> unrecorded;
  /// The batch of the record call in flight, kept to be tried again.
  std::vector<delivery_report> recording_batch;
  bool recording = false;
  /// While Redis is unreachable, outcomes are kept and recorded when it is
  /// back: a delivered webhook is not sent again, a failed one is not left
  /// waiting out its claim's lease. After `record_retry_window_ms` of
  /// retrying they are dropped and the leases decide (at least once).
  bool record_retry_scheduled = false;
  uint32_t record_retry_ms = 0;
  uint64_t record_retry_spent_ms = 0;
};

using self_ptr = caf::stateful_actor<notification_state>*;

std::chrono::milliseconds timeout(self_ptr self) {
  return std::chrono::milliseconds{self->state.limits.request_timeout_ms};
}

void poll(self_ptr self);

void flush_records(self_ptr self);

void record_failed(self_ptr self) {
  auto& st = self->state;
  auto batch = std::move(st.recording_batch);
  st.recording_batch.clear();
  if (st.record_retry_spent_ms >= st.limits.record_retry_window_ms) {
    // The claims expire and the deliveries are tried again (at least once;
    // receivers dedupe by event id).
    st.in_flight -= static_cast<uint32_t>(batch.size());
    st.record_retry_ms = 0;
    st.record_retry_spent_ms = 0;
    flush_records(self);
    return;
  }
  // Older outcomes first, so a batch keeps its order across retries.
  batch.insert(batch.end(), std::make_move_iterator(st.unrecorded.begin()),
               std::make_move_iterator(st.unrecorded.end()));
  st.unrecorded = std::move(batch);
  st.record_retry_ms = st.record_retry_ms == 0
                         ? record_retry_first_ms
                         : std::min(st.record_retry_ms * 2, record_retry_max_ms);
  st.record_retry_spent_ms += st.record_retry_ms;
  st.record_retry_scheduled = true;
  self->delayed_send(self, std::chrono::milliseconds{st.record_retry_ms},
                     record_retry_atom::value);
}

void flush_records(self_ptr self) {
  auto& st = self->state;
  if (st.recording || st.record_retry_scheduled || st.unrecorded.empty()) {
    return;
  }
  st.recording = true;
  st.recording_batch = std::move(st.unrecorded);
  st.unrecorded.clear();
  auto n = static_cast<uint32_t>(st.recording_batch.size());
  self->request(st.store, timeout(self), record_atom::value,
                st.recording_batch)
    .then(
      [=](bool) {
        auto& s = self->state;
        s.in_flight -= n;
        s.recording = false;
        s.recording_batch.clear();
        s.record_retry_ms = 0;
        s.record_retry_spent_ms = 0;
        flush_records(self);
        poll(self);
      },
      [=](caf::error&) {
        self->state.recording = false;
        record_failed(self);
      });
}

void record(self_ptr self, const webhook_delivery& d,
            const delivery_attempt& res) {
  auto& st = self->state;
  delivery_report rep;
  rep.delivery_id = d.delivery_id;
  rep.delivered = res.delivered;
  rep.attempts = d.attempts_before + 1;
  rep.lease_until_ms = d.lease_until_ms;
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
  self->request(self->state.sender,
                std::chrono::milliseconds{self->state.limits.send_timeout_ms},
                send_atom::value, d)
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

/// Frees the deliveries `node` claimed and will never record, then looks
/// for due work (they are due now).
void release_claims(self_ptr self, const std::string& node) {
  self->request(self->state.store, timeout(self), release_atom::value, node)
    .then(
      [=](uint64_t freed) {
        if (freed > 0) {
          poll(self);
        }
      },
      [](caf::error&) {
        // Redis away: the leases free those deliveries in the end.
      });
}

caf::behavior notification_queue(self_ptr self, delivery_store store,
                                 webhook_sender sender,
                                 notification_limits limits,
                                 std::string node_id, int64_t (*now_ms)()) {
  auto& st = self->state;
  st.store = std::move(store);
  st.sender = std::move(sender);
  st.limits = std::move(limits);
  if (st.limits.schedule_ms.empty()) {
    st.limits.schedule_ms = default_webhook_schedule_ms();
  }
  st.now_ms = now_ms;
  st.node_id = std::move(node_id);
  auto start = [self] {
    if (self->state.started) {
      return;
    }
    self->state.started = true;
    // Claims of this node's previous life (it crashed or was killed after
    // claiming) would otherwise wait out their lease.
    release_claims(self, self->state.node_id);
    self->send(self, notify_tick_atom::value);
  };
  if (!st.limits.wait_for_registration) {
    start();
  }
  return {
    [=](quorum_atom, bool) { start(); }, // registered: the id is ours
    [=](poll_atom) {
      if (self->state.started) {
        poll(self);
      }
    },
    [=](release_atom, const std::string& node) { release_claims(self, node); },
    [=](record_retry_atom) {
      self->state.record_retry_scheduled = false;
      flush_records(self);
    },
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
                                    std::string node_id,
                                    int64_t (*now_ms)()) {
  return sys.spawn(notification_queue, std::move(store), std::move(sender),
                   std::move(limits), std::move(node_id), now_ms);
}

} // namespace psp
