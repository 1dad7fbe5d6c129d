#include "actors/payment_queue.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/ownership.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

namespace psp {

namespace {

struct queue_state {
  static inline const char* name = "psp.payment_queue";
  payment_stream stream;
  caf::actor router;      ///< this node's
  cluster_view view;      ///< empty: single node, everything local
  /// Per payment stream partition, its owner's index in view.node_ids (-1:
  /// no view, this node); and the partitions this node reads.
  std::vector<int> owners = partition_owners({});
  std::vector<uint32_t> owned = all_partitions();
  /// Jobs forwarded to another node, by node id and attempt id: when that
  /// node leaves the view they are dispatched again at once instead of
  /// waiting for an answer that will never come.
  std::map<std::string, std::map<std::string, payment_job>> forwarded;
  payment_queue_limits limits;
  uint32_t in_flight = 0;
  bool reading = false;
  bool paused = false;    ///< a read_atom is on its way (after a pause)
  /// False while this node is in a minority (a partition): no reads, no
  /// take-overs. The majority claims the stream entries meanwhile.
  bool has_quorum = true;
  /// Members that left the view and whose entries are not known to be
  /// taken over: the rounds of a take-over find nothing to do without the
  /// quorum, so regaining it runs them again (the scale audit: a dead
  /// node's payments waited for the 30 s idle reclaim when the survivors
  /// lost the quorum for a few seconds first).
  std::set<std::string> departed;
};

using self_ptr = caf::stateful_actor<queue_state>*;

void read_more(self_ptr self);

void pause_then_read(self_ptr self) {
  self->state.paused = true;
  self->delayed_send(self,
                     std::chrono::milliseconds{self->state.limits.idle_retry_ms},
                     read_atom::value);
}

/// The owner of the payment's stream partition, as an index in the view;
/// -1 when that is this node (or there is no view).
int owner_of(const queue_state& st, const std::string& intent_id) {
  auto i = st.owners[payment_partition(intent_id)];
  if (i < 0 || static_cast<size_t>(i) >= st.view.routers.size()
      || !st.view.routers[i] || st.view.routers[i] == st.router) {
    return -1;
  }
  return i;
}

void dispatch(self_ptr self, payment_job& job);
void dispatch_local(self_ptr self, payment_job& job);

void done_one(self_ptr self) {
  --self->state.in_flight;
  read_more(self);
}

// Whatever the answer, the entry is either acknowledged by now or stays
// pending in Redis and comes back through the reclaim path: no loss.
void dispatch(self_ptr self, payment_job& job) {
  auto& st = self->state;
  // Jobs come from the partitions this node owns, so they are local unless
  // the view changed since they were read (or they were taken over from a
  // departed member in another partition).
  auto owner_i = owner_of(st, job.intent_id);
  if (owner_i < 0) {
    dispatch_local(self, job);
    return;
  }
  auto target = st.view.routers[owner_i];
  ++st.in_flight;
  auto job_timeout = std::chrono::milliseconds{st.limits.job_timeout_ms};
  // The owner is another node: forward over CAF. If it fails or leaves,
  // dispatch again (to the next owner, or here); every step is idempotent,
  // so the worst case is a redundant network call answered from the
  // network's idempotency store.
  auto owner = st.view.node_ids[owner_i];
  auto attempt = job.attempt_id;
  st.forwarded[owner][attempt] = job;
  auto settle = [=](bool redispatch) {
    auto& fw = self->state.forwarded[owner];
    auto i = fw.find(attempt);
    if (i == fw.end()) {
      return; // already dispatched again after the owner left
    }
    auto again = std::move(i->second);
    fw.erase(i);
    --self->state.in_flight;
    if (redispatch) {
      dispatch_local(self, again);
    } else {
      read_more(self);
    }
  };
  self->request(target, job_timeout, process_atom::value, std::move(job))
    .then([=](bool) { settle(false); }, [=](caf::error&) { settle(true); });
}

void dispatch_local(self_ptr self, payment_job& job) {
  auto& st = self->state;
  ++st.in_flight;
  self
    ->request(st.router, std::chrono::milliseconds{st.limits.job_timeout_ms},
              process_atom::value, std::move(job))
    .then([=](bool) { done_one(self); },
          [=](caf::error&) { done_one(self); });
}

/// A member left: its forwarded jobs go to their new owners now.
void redispatch_forwarded(self_ptr self, const std::string& node_id) {
  auto& st = self->state;
  auto i = st.forwarded.find(node_id);
  if (i == st.forwarded.end()) {
    return;
  }
  auto jobs = std::move(i->second);
  st.forwarded.erase(i);
  for (auto& [attempt, job] : jobs) {
    --st.in_flight;
    dispatch(self, job);
  }
}

/// How often a departed member's entries are claimed, and how far apart:
/// longer than the claim's minimum idle time (500 ms in the stream reader).
constexpr uint32_t take_over_rounds = 3;
constexpr std::chrono::milliseconds take_over_retry{750};

/// Claims the entries `consumer` left pending in `partitions`, batch by
/// batch: a departed member's in the partitions we own now (the other
/// survivors claim theirs), or ours in all of them after we were fenced.
void take_over(self_ptr self, const std::string& consumer,
               std::vector<uint32_t> partitions) {
  auto& st = self->state;
  if (!st.has_quorum || partitions.empty()) {
    return; // the majority side takes over; we are cut off from it
  }
  self
    ->request(st.stream, std::chrono::milliseconds{st.limits.read_timeout_ms},
              claim_atom::value, consumer, st.limits.batch_max, partitions)
    .then(
      [=](std::vector<payment_job>& jobs) {
        for (auto& job : jobs) {
          dispatch(self, job);
        }
        if (jobs.size() >= self->state.limits.batch_max
            && self->state.has_quorum) {
          take_over(self, consumer, partitions);
        }
      },
      [=](caf::error&) {}); // the idle-time reclaim is the safety net
}

void read_more(self_ptr self) {
  auto& st = self->state;
  if (st.reading || st.paused || !st.has_quorum) {
    return; // a read in progress or due, or a minority: quorum_atom resumes
  }
  if (st.in_flight >= st.limits.in_flight_max) {
    return; // a finishing job calls read_more again
  }
  if (st.owned.empty()) {
    pause_then_read(self); // the view gives us no partition, for now
    return;
  }
  st.reading = true;
  auto n = std::min(st.limits.in_flight_max - st.in_flight,
                    st.limits.batch_max);
  self
    ->request(st.stream, std::chrono::milliseconds{st.limits.read_timeout_ms},
              read_atom::value, n, st.owned)
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
  self->state.has_quorum = !limits.wait_for_quorum;
  self->send(self, read_atom::value);
  return {
    [=](read_atom) {
      self->state.paused = false;
      read_more(self);
    },
    [=](quorum_atom, bool has_quorum) {
      // Jobs already in flight finish where they are (every step is
      // idempotent and fenced); only new work stops.
      auto& st = self->state;
      bool regained = has_quorum && !st.has_quorum;
      st.has_quorum = has_quorum;
      if (regained) {
        for (auto& id : st.departed) {
          self->delayed_send(
            self, std::chrono::milliseconds{st.limits.take_over_delay_ms},
            claim_atom::value, id, uint32_t{0});
        }
      }
      read_more(self);
    },
    [=](view_atom, cluster_view& view) {
      auto& st = self->state;
      for (auto& id : st.view.node_ids) {
        bool gone = std::find(view.node_ids.begin(), view.node_ids.end(), id)
                    == view.node_ids.end();
        if (gone && id != view.self_id) {
          st.departed.insert(id);
          self->delayed_send(
            self, std::chrono::milliseconds{st.limits.take_over_delay_ms},
            claim_atom::value, id, uint32_t{0});
        }
      }
      auto old_ids = st.view.node_ids;
      st.view = std::move(view);
      for (auto& id : st.view.node_ids) {
        st.departed.erase(id); // back: its entries are its own again
      }
      st.owners = partition_owners(st.view.node_ids);
      st.owned = owned_partitions(st.view.self_id, st.view.node_ids);
      for (auto& id : old_ids) {
        if (std::find(st.view.node_ids.begin(), st.view.node_ids.end(), id)
            == st.view.node_ids.end()) {
          redispatch_forwarded(self, id);
        }
      }
    },
    [=](claim_atom, const std::string& departed, uint32_t round) {
      auto& ids = self->state.view.node_ids;
      if (std::find(ids.begin(), ids.end(), departed) != ids.end()) {
        return; // it came back: its entries are its own again
      }
      // Only the partitions we own now; does nothing without the quorum.
      take_over(self, departed, self->state.owned);
      // The claim skips entries idle for less than its 500 ms minimum (a
      // live consumer's), so entries the departed node read just before it
      // went are only claimable a little later: look again.
      if (round + 1 < take_over_rounds) {
        self->delayed_send(self, take_over_retry, claim_atom::value,
                           departed, round + 1);
      } else if (self->state.has_quorum) {
        self->state.departed.erase(departed); // every round ran
      }
    },
    [=](fence_atom) {
      // We were declared dead and joined again under a new registration:
      // what we had in flight can no longer commit, and what nobody took
      // over meanwhile is still pending at our own consumer. Claim it back
      // (once older than the claim's min-idle) so it runs again under the
      // new registration instead of waiting for the idle reclaim.
      self->delayed_send(self, take_over_retry, fence_atom::value,
                         uint32_t{0});
    },
    [=](fence_atom, uint32_t round) {
      take_over(self, self->state.view.self_id, all_partitions());
      if (round + 1 < take_over_rounds) {
        self->delayed_send(self, take_over_retry, fence_atom::value,
                           round + 1);
      }
    },
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
