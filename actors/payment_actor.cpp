#include "actors/payment_actor.hpp"

#include "actors/payment_logic.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <deque>
#include <optional>
#include <random>

namespace psp {

namespace {

enum class stage : uint8_t { idle, checking, charging, committing, burying };

struct pending_job {
  payment_job job;
  caf::response_promise promise;
};

struct payment_state {
  static inline const char* name = "psp.payment";
  std::string intent_id;
  payment_ports ports;
  payment_limits limits;
  std::minstd_rand rng;
  stage current_stage = stage::idle;
  std::optional<payment_job> job;
  std::vector<caf::response_promise> waiting;
  std::deque<pending_job> queued;
  std::optional<payment_commit> commit;
  uint32_t network_tries = 0;
  uint32_t commit_tries = 0;
  uint64_t idle_generation = 0;
};

using self_ptr = caf::stateful_actor<payment_state>*;

std::chrono::milliseconds timeout(self_ptr self) {
  return std::chrono::milliseconds{self->state.limits.request_timeout_ms};
}

void start_job(self_ptr self);
void charge(self_ptr self);
void commit(self_ptr self);

void schedule_passivation(self_ptr self) {
  auto generation = ++self->state.idle_generation;
  self->delayed_send(self, std::chrono::milliseconds{self->state.limits.idle_ms},
                     passivate_atom::value, generation);
}

/// Answers everyone waiting for the current job and moves on.
void finish(self_ptr self, bool acknowledged) {
  auto& st = self->state;
  for (auto& rp : st.waiting) {
    rp.deliver(acknowledged);
  }
  st.waiting.clear();
  st.job.reset();
  st.commit.reset();
  st.current_stage = stage::idle;
  if (!st.queued.empty()) {
    auto next = std::move(st.queued.front());
    st.queued.pop_front();
    st.job = std::move(next.job);
    st.waiting.push_back(std::move(next.promise));
    start_job(self);
    return;
  }
  schedule_passivation(self);
}

void retry_later(self_ptr self, uint32_t retry) {
  auto& lim = self->state.limits;
  auto delay = backoff_ms(retry, lim.backoff_base_ms, lim.backoff_max_ms,
                          self->state.rng);
  self->delayed_send(self, std::chrono::milliseconds{delay},
                     retry_atom::value, self->state.job->attempt_id);
}

void bury(self_ptr self, std::string reason) {
  auto& st = self->state;
  st.current_stage = stage::burying;
  dead_letter_record rec{"payment",          st.job->attempt_id,
                         st.job->entry_id,   std::move(reason),
                         st.job->intent_id,  st.job->fence_node,
                         st.job->fence_token};
  self->request(st.ports.dead_letter, timeout(self), dead_atom::value, rec)
    .then([=](bool) { finish(self, true); },
          [=](caf::error&) { finish(self, false); });
}

void on_transient(self_ptr self, const std::string& why,
                  bool key_conflict = false) {
  auto& st = self->state;
  if (key_conflict) {
    // A capture, void or refund whose key names another request: an op
    // Redis lost (decision 70; a card attempt is declined instead). Asking
    // again cannot help; an operator decides.
    bury(self, "card network: " + why + " (key "
                 + network_idempotency_key(*st.job)
                 + "; an attempt Redis lost? see docs/faults.md); not retried");
    return;
  }
  if (++st.network_tries >= st.limits.network_tries_max) {
    bury(self, "card network: " + why + " after "
                 + std::to_string(st.network_tries) + " tries");
    return;
  }
  retry_later(self, st.network_tries - 1);
}

void charge(self_ptr self) {
  auto& st = self->state;
  st.current_stage = stage::charging;
  auto& j = *st.job;
  charge_request req{j.attempt_id,   network_idempotency_key(j),
                     j.intent_id,    j.merchant_id,
                     j.amount_minor, j.currency,
                     j.sealed_card,  j.op,
                     j.network_ref};
  self->request(st.ports.network, timeout(self), charge_atom::value, req)
    .then(
      [=](const charge_result& res) {
        auto c = build_commit(*self->state.job, res);
        if (!c) {
          on_transient(self,
                       res.message.empty() ? "no final answer" : res.message,
                       res.key_conflict);
          return;
        }
        self->state.commit = std::move(*c);
        commit(self);
      },
      [=](caf::error& err) { on_transient(self, to_string(err)); });
}

void commit(self_ptr self) {
  auto& st = self->state;
  st.current_stage = stage::committing;
  self->request(st.ports.store, timeout(self), commit_atom::value, *st.commit)
    .then(
      [=](bool) {
        if (self->state.ports.notifier) {
          self->send(self->state.ports.notifier, poll_atom::value);
        }
        finish(self, true);
      },
      [=](caf::error&) {
        // The network already answered; the commit must eventually land.
        // Past the bound the entry stays pending and is redelivered later,
        // where the network's idempotency key returns the same answer.
        auto& s = self->state;
        if (++s.commit_tries >= s.limits.commit_tries_max) {
          finish(self, false);
          return;
        }
        retry_later(self, s.commit_tries - 1);
      });
}

void start_job(self_ptr self) {
  auto& st = self->state;
  st.network_tries = 0;
  st.commit_tries = 0;
  ++st.idle_generation; // busy: cancels a pending passivation
  if (st.job->delivery_count <= 1) {
    charge(self);
    return;
  }
  // A redelivery: the step may already have been taken before a crash.
  st.current_stage = stage::checking;
  self->request(st.ports.store, timeout(self), load_atom::value, st.job->intent_id,
                st.job->attempt_id)
    .then(
      [=](attempt_status s) {
        if (s == attempt_status::pending) {
          charge(self);
          return;
        }
        self->request(self->state.ports.store, timeout(self), ack_atom::value,
                      self->state.job->intent_id, self->state.job->entry_id)
          .then([=](bool) { finish(self, true); },
                [=](caf::error&) { finish(self, false); });
      },
      [=](caf::error&) { finish(self, false); });
}

caf::behavior payment_actor(self_ptr self, std::string intent_id,
                            payment_ports ports, payment_limits limits) {
  auto& st = self->state;
  st.intent_id = std::move(intent_id);
  st.ports = std::move(ports);
  st.limits = limits;
  st.rng.seed(limits.rng_seed != 0
                ? limits.rng_seed
                : static_cast<uint32_t>(
                  std::chrono::steady_clock::now().time_since_epoch().count()));
  schedule_passivation(self);
  return {
    [=](process_atom, payment_job& job) -> caf::result<bool> {
      auto& s = self->state;
      auto rp = self->make_response_promise<bool>();
      if (s.job && s.job->attempt_id == job.attempt_id) {
        // Redelivery of the step in progress: answer once it is done. One
        // stamped with a newer registration (this node was fenced and
        // joined again, then claimed its own entry back) carries the token
        // the step must now commit under.
        if (job.fence_token != s.job->fence_token) {
          s.job->fence_node = job.fence_node;
          s.job->fence_token = job.fence_token;
          if (s.commit) {
            s.commit->job.fence_node = job.fence_node;
            s.commit->job.fence_token = job.fence_token;
          }
        }
        s.waiting.push_back(rp);
        return rp;
      }
      if (s.job) {
        if (s.queued.size() >= s.limits.queued_jobs_max) {
          return caf::make_error(caf::sec::request_timeout);
        }
        s.queued.push_back(pending_job{std::move(job), rp});
        return rp;
      }
      s.job = std::move(job);
      s.waiting.push_back(rp);
      start_job(self);
      return rp;
    },
    [=](retry_atom, const std::string& attempt_id) {
      auto& s = self->state;
      if (!s.job || s.job->attempt_id != attempt_id) {
        return;
      }
      if (s.current_stage == stage::committing) {
        commit(self);
      } else {
        charge(self);
      }
    },
    [=](passivate_atom, uint64_t generation) {
      auto& s = self->state;
      if (generation == s.idle_generation && !s.job && s.queued.empty()) {
        self->quit();
      }
    },
  };
}

} // namespace

caf::actor spawn_payment_actor(caf::actor_system& sys, std::string intent_id,
                               payment_ports ports, payment_limits limits) {
  return sys.spawn(payment_actor, std::move(intent_id), std::move(ports),
                   limits);
}

} // namespace psp
