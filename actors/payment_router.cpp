#include "actors/payment_router.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <deque>
#include <unordered_map>

namespace psp {

namespace {

using clock_type = std::chrono::steady_clock;

struct router_state {
  static inline const char* name = "psp.payment_router";
  payment_ports ports;
  payment_limits limits;
  supervisor_limits supervision;
  std::unordered_map<std::string, caf::actor> actors;
  std::unordered_map<caf::actor_addr, std::string> intents;
  std::unordered_map<std::string, std::deque<clock_type::time_point>> crashes;
  std::string fence_node;   ///< this node's registration, stamped on jobs
  std::string fence_token;
};

using self_ptr = caf::stateful_actor<router_state>*;

/// True while the payment is within its restart intensity. Only payments
/// that crashed have an entry, and one whose crashes all left the window
/// loses it: an entry made for every payment (an empty deque allocates a
/// block of its own) grew a node by ~0.7 KB a payment, for good (the soak
/// audit's 4.4 MB a minute).
bool may_restart(router_state& st, const std::string& intent_id) {
  auto i = st.crashes.find(intent_id);
  if (i == st.crashes.end()) {
    return true;
  }
  auto now = clock_type::now();
  auto window = std::chrono::milliseconds{st.supervision.window_ms};
  auto& times = i->second;
  while (!times.empty() && now - times.front() > window) {
    times.pop_front();
  }
  if (times.empty()) {
    st.crashes.erase(i);
    return true;
  }
  return times.size() < st.supervision.restarts_max;
}

caf::behavior payment_router(self_ptr self, payment_ports ports,
                             payment_limits limits,
                             supervisor_limits supervision) {
  self->state.ports = std::move(ports);
  self->state.limits = limits;
  self->state.supervision = supervision;
  // Shutdown: payment actors are not linked (one crashing must not take the
  // router down), so the router stops them itself before it quits.
  self->set_exit_handler([=](const caf::exit_msg& msg) {
    for (auto& [intent, worker] : self->state.actors) {
      self->send_exit(worker, msg.reason);
    }
    self->quit(msg.reason);
  });
  self->set_down_handler([=](const caf::down_msg& msg) {
    auto& st = self->state;
    auto i = st.intents.find(msg.source);
    if (i == st.intents.end()) {
      return;
    }
    if (msg.reason && msg.reason != caf::exit_reason::normal) {
      st.crashes[i->second].push_back(clock_type::now());
    } else {
      st.crashes.erase(i->second); // done: no restart to count
    }
    st.actors.erase(i->second);
    st.intents.erase(i);
  });
  return {
    [=](process_atom, payment_job& job) -> caf::result<caf::message> {
      auto& st = self->state;
      auto i = st.actors.find(job.intent_id);
      if (i == st.actors.end()) {
        if (!may_restart(st, job.intent_id)) {
          dead_letter_record rec{"payment",         job.attempt_id,
                                 job.entry_id,      "payment actor crashed "
                                                    "repeatedly",
                                 job.intent_id,     st.fence_node,
                                 st.fence_token};
          st.crashes.erase(job.intent_id);
          return self->delegate(st.ports.dead_letter, dead_atom::value,
                                std::move(rec));
        }
        if (st.actors.size() >= st.supervision.actors_max) {
          return caf::make_error(caf::sec::request_timeout);
        }
        auto worker = spawn_payment_actor(self->system(), job.intent_id, st.ports,
                                          st.limits);
        self->monitor(worker);
        st.intents.emplace(worker.address(), job.intent_id);
        i = st.actors.emplace(job.intent_id, worker).first;
      }
      job.fence_node = st.fence_node;
      job.fence_token = st.fence_token;
      return self->delegate(i->second, process_atom::value, std::move(job));
    },
    [=](fence_atom, std::string& node, std::string& token) {
      self->state.fence_node = std::move(node);
      self->state.fence_token = std::move(token);
    },
    [=](stats_atom) { return static_cast<uint64_t>(self->state.actors.size()); },
    [=](stats_atom, dead_atom) {
      return static_cast<uint64_t>(self->state.crashes.size());
    },
  };
}

} // namespace

caf::actor spawn_payment_router(caf::actor_system& sys, payment_ports ports,
                                payment_limits limits,
                                supervisor_limits supervision) {
  return sys.spawn(payment_router, std::move(ports), limits, supervision);
}

} // namespace psp
