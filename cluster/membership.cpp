#include "cluster/membership.hpp"

#include "actors/errors.hpp"
#include "actors/payment_queue.hpp"
#include "cluster/quorum.hpp"

#include <caf/actor_system.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/stateful_actor.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <map>
#include <set>

namespace psp {

namespace {

using tick_atom = caf::atom_constant<caf::atom("mtick")>;
using clock_type = std::chrono::steady_clock;

struct membership_state {
  static inline const char* name = "psp.membership";
  membership_settings cfg;
  cluster_registry registry;
  caf::actor router;
  caf::actor queue;
  caf::actor notifier; ///< told which members left (their webhook claims)
  std::string registration;
  std::set<std::string> live;                    ///< registered in Redis
  /// Members gone from the view whose webhook claims are not released yet
  /// (they are released while this node holds the majority).
  std::set<std::string> release_due;
  /// What the quorum is counted against (live, plus recent absentees).
  quorum_members counted{std::chrono::milliseconds{2'500}};
  std::map<std::string, caf::actor> routers;     ///< connected peers
  std::set<std::string> connecting;
  std::map<std::string, clock_type::time_point> retry_after;
  std::vector<std::string> last_view;
  /// Unknown until the first members list: the queue holds until then.
  enum class side { unknown, majority, minority } quorum = side::unknown;
  bool had_quorum = false;  ///< ever, since this process started
  /// When we last stopped holding it: a tie still counts as held for the
  /// absence grace after (a peer's down message lands before the read that
  /// shows its leave mark, and the survivor must not stay out for good).
  clock_type::time_point lost_quorum_at{};
  // One registry request of each kind at a time: while Redis stalls, ticks
  // would otherwise queue beats that all answer "lost" once it is back,
  // and each would join again and fence the join before it.
  bool beat_open = false;
  bool members_open = false;
  bool rejoining = false;
};

using self_ptr = caf::stateful_actor<membership_state>*;

std::chrono::milliseconds timeout(self_ptr self) {
  return std::chrono::milliseconds{self->state.cfg.request_timeout_ms};
}

void log_event(const std::string& what) {
  // Membership changes are rare and operators need them: one line each in
  // the node's key=value style, with the time (to line them up with faults).
  spdlog::info("event={}", what);
}

/// A change that means a node is gone or this one stops taking payment
/// work: kept under `--psp.log-level=warn` (the on-call audit found them
/// dropped there).
void warn_event(const std::string& what) {
  spdlog::warn("event={}", what);
}

/// Applies the quorum rule to the view `ids` and tells the queue when our
/// side changes. Sent before the view so a minority never takes over the
/// entries of the members it just lost.
void update_quorum(self_ptr self, const std::vector<std::string>& ids) {
  auto& st = self->state;
  bool holds = st.quorum == membership_state::side::majority
               || (st.had_quorum
                   && clock_type::now() - st.lost_quorum_at
                        < std::chrono::milliseconds{st.cfg.absent_grace_ms});
  auto d = decide_quorum(st.cfg.node_id, st.counted.counted(), ids, holds);
  auto now = d.has_quorum ? membership_state::side::majority
                          : membership_state::side::minority;
  if (now == st.quorum) {
    return;
  }
  const char* what = d.has_quorum
                       ? (st.had_quorum ? "quorum_regained" : "quorum_reached")
                       : (st.had_quorum ? "quorum_lost" : "quorum_waiting");
  (d.has_quorum ? log_event : warn_event)(
    std::string{what} + " node=" + st.cfg.node_id + " reachable="
            + std::to_string(d.reachable) + " registered="
            + std::to_string(d.registered)
            + (d.has_quorum ? " payments=on" : " payments=off"));
  if (st.quorum == membership_state::side::majority) {
    st.lost_quorum_at = clock_type::now();
  }
  st.quorum = now;
  st.had_quorum = st.had_quorum || d.has_quorum;
  self->send(st.queue, quorum_atom::value, d.has_quorum);
}

/// Members that are both registered and reachable, plus ourselves.
void push_view(self_ptr self) {
  auto& st = self->state;
  cluster_view view;
  view.self_id = st.cfg.node_id;
  std::vector<std::string> ids{st.cfg.node_id};
  for (auto& [id, hdl] : st.routers) {
    if (st.live.count(id) > 0) {
      ids.push_back(id);
    }
  }
  std::sort(ids.begin(), ids.end());
  update_quorum(self, ids);
  for (auto& id : ids) {
    view.node_ids.push_back(id);
    view.routers.push_back(id == st.cfg.node_id ? st.router : st.routers[id]);
  }
  if (ids != st.last_view) {
    // A member that left died or was cut off: the webhooks it claimed go
    // out again now (below, while we hold the majority) rather than after
    // their lease (sent twice at worst, same event id, if it still lives).
    for (auto& gone : st.last_view) {
      if (!std::binary_search(ids.begin(), ids.end(), gone)) {
        st.release_due.insert(gone);
      }
    }
    std::string joined;
    for (auto& id : ids) {
      joined += (joined.empty() ? "" : ",") + id;
    }
    log_event("cluster_view node=" + st.cfg.node_id + " members=" + joined);
    st.last_view = ids;
  }
  // Held back while in a minority (the majority releases them), and sent
  // once the quorum is back if the member is still gone (the scale audit:
  // a loss of the quorum first left them to their lease).
  if (st.notifier && st.quorum == membership_state::side::majority) {
    for (auto& gone : st.release_due) {
      if (!std::binary_search(ids.begin(), ids.end(), gone)) {
        self->send(st.notifier, release_atom::value, gone);
      }
    }
    st.release_due.clear();
  }
  self->send(st.queue, view_atom::value, std::move(view));
}

void connect(self_ptr self, const std::string& id, const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return;
  }
  auto host = address.substr(0, colon);
  int port_number = 0;
  try {
    port_number = std::stoi(address.substr(colon + 1));
  } catch (const std::exception&) {
    return; // a malformed registration; nothing to dial
  }
  if (port_number < 1 || port_number > 65535) {
    return;
  }
  auto port = static_cast<uint16_t>(port_number);
  self->state.connecting.insert(id);
  caf::actor me = caf::actor_cast<caf::actor>(self);
  // remote_actor blocks until the BASP handshake ends, so it runs on a
  // throwaway detached actor, never on the scheduler or in this actor.
  self->system().spawn<caf::detached>(
    [me, id, host, port](caf::blocking_actor* b) {
      auto res = b->system().middleman().remote_actor(host, port);
      b->send(me, linked_atom::value, id, res ? *res : caf::actor{});
    });
}

void update(self_ptr self, const std::vector<member_info>& members) {
  auto& st = self->state;
  auto was_live = std::move(st.live);
  st.live.clear();
  auto now = clock_type::now();
  std::set<std::string> left;
  for (auto& m : members) {
    if (m.left) {
      left.insert(m.node_id);
      if (was_live.count(m.node_id) > 0) {
        // Its leave is marked: a stop on purpose (a deploy), not a crash,
        // for whoever reads the peers' logs.
        log_event("member_left node=" + st.cfg.node_id + " peer="
                  + m.node_id);
      }
      continue;
    }
    st.live.insert(m.node_id);
    if (m.node_id == st.cfg.node_id || st.routers.count(m.node_id) > 0
        || st.connecting.count(m.node_id) > 0) {
      continue;
    }
    auto wait = st.retry_after.find(m.node_id);
    if (wait != st.retry_after.end() && wait->second > now) {
      continue;
    }
    connect(self, m.node_id,
            dial_address(st.cfg.routes, m.node_id, m.cluster_address));
  }
  st.counted.observe(st.live, left, now);
  for (auto& id : was_live) {
    if (st.live.count(id) == 0 && left.count(id) == 0) {
      // Gone from the registry without a leave: its registration lapsed
      // (a crash, a pause, a cut), whether or not its connection dropped
      // first (member_down).
      warn_event("member_expired node=" + st.cfg.node_id + " peer=" + id);
    }
  }
  for (auto i = st.routers.begin(); i != st.routers.end();) {
    if (st.live.count(i->first) == 0) {
      i = st.routers.erase(i);
    } else {
      ++i;
    }
  }
  push_view(self);
}

void rejoin(self_ptr self) {
  auto& st = self->state;
  st.rejoining = true;
  self
    ->request(st.registry, timeout(self), join_atom::value, st.cfg.node_id,
              st.cfg.cluster_address)
    .then(
      [=](std::string& registration) {
        auto& s = self->state;
        s.rejoining = false;
        s.registration = std::move(registration);
        self->send(s.router, fence_atom::value, s.cfg.node_id, s.registration);
        // Entries still pending at our own consumer were fenced mid-way
        // and nobody took them over: the queue claims them back.
        self->send(s.queue, fence_atom::value);
        log_event("rejoined node=" + s.cfg.node_id
                  + " (earlier work is fenced)");
      },
      [=](caf::error& e) {
        auto& s = self->state;
        s.rejoining = false; // the next lost beat tries again
        if (is_error(e, errc::redis_rejected)
            && to_string(e).find("DUPLICATE") != std::string::npos) {
          // Another process took our id while we were not beating (paused
          // past the TTL, then the id started again by hand or by a
          // process manager). It is the node now; this one is stale, and
          // went on reading its consumer's entries only to be fenced at
          // every commit (the operator audit left 15 payments processing
          // until it was killed). Stop as a duplicate id does at start.
          spdlog::critical("event=node_id_taken node={} action=stopping_node "
                           "(another live process registered this id)",
                           s.cfg.node_id);
          self->quit(make_error(errc::node_id_taken, s.cfg.node_id));
        }
      });
}

/// Asks the registry who is registered (and who left), unless a read is
/// under way already.
void read_members(self_ptr self) {
  auto& st = self->state;
  if (st.members_open) {
    return;
  }
  st.members_open = true;
  self->request(st.registry, timeout(self), members_atom::value)
    .then(
      [=](std::vector<member_info>& ms) {
        self->state.members_open = false;
        update(self, ms);
      },
      [=](caf::error&) { self->state.members_open = false; });
}

void tick(self_ptr self) {
  auto& st = self->state;
  if (!st.beat_open && !st.rejoining) {
    st.beat_open = true;
    auto sent = st.registration;
    self
      ->request(st.registry, timeout(self), beat_atom::value, st.cfg.node_id,
                sent)
      .then(
        [=](bool alive) {
          auto& s = self->state;
          s.beat_open = false;
          // Lost, and for the registration we still hold (not one a join
          // has replaced meanwhile).
          if (!alive && sent == s.registration && !s.rejoining) {
            warn_event("registration_lost node=" + s.cfg.node_id);
            rejoin(self);
          }
        },
        [=](caf::error&) { self->state.beat_open = false; });
  }
  read_members(self);
  self->delayed_send(self,
                     std::chrono::milliseconds{st.cfg.heartbeat_interval_ms},
                     tick_atom::value);
}

caf::behavior membership(self_ptr self, membership_settings cfg,
                         cluster_registry registry, caf::actor router,
                         caf::actor queue, std::string registration,
                         caf::actor notifier) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.counted = quorum_members{std::chrono::milliseconds{st.cfg.absent_grace_ms}};
  st.registry = std::move(registry);
  st.router = std::move(router);
  st.queue = std::move(queue);
  st.notifier = std::move(notifier);
  st.registration = std::move(registration);
  self->send(st.router, fence_atom::value, st.cfg.node_id, st.registration);
  // No payment work before we know our side: a node (re)starting into a
  // cluster must first reach a majority of the registered members.
  self->send(st.queue, quorum_atom::value, false);
  // Registered: the id is ours now, so its claims from a previous life are
  // ours to release and deliveries ours to claim.
  if (st.notifier) {
    self->send(st.notifier, quorum_atom::value, false);
  }
  self->set_down_handler([=](const caf::down_msg& msg) {
    auto& s = self->state;
    for (auto i = s.routers.begin(); i != s.routers.end(); ++i) {
      if (i->second.address() == msg.source) {
        // Its connection dropped: killed, cut off or stopping (a stop on
        // purpose is then told as member_left once its mark is read).
        // Faster than the TTL.
        warn_event("member_down node=" + s.cfg.node_id + " peer=" + i->first
                  + " reason=connection_lost");
        s.retry_after[i->first] = clock_type::now()
                                  + std::chrono::milliseconds{
                                    s.cfg.reconnect_delay_ms};
        s.routers.erase(i);
        push_view(self);
        // A peer that stopped on purpose has marked its leave: reading it
        // now, not at the next tick, ends the pause its absence from the
        // quorum's count causes meanwhile (a tie while two of two).
        read_members(self);
        return;
      }
    }
  });
  self->send(self, tick_atom::value);
  return {
    [=](tick_atom) { tick(self); },
    [=](linked_atom, const std::string& id, caf::actor& peer) {
      auto& s = self->state;
      s.connecting.erase(id);
      if (!peer) {
        s.retry_after[id] = clock_type::now()
                            + std::chrono::milliseconds{s.cfg.reconnect_delay_ms};
        return;
      }
      self->monitor(peer);
      s.routers[id] = std::move(peer);
      log_event("member_connected node=" + s.cfg.node_id + " peer=" + id);
      push_view(self);
    },
    [=](members_atom) { return self->state.last_view; },
    [=](quorum_atom) {
      return self->state.quorum == membership_state::side::majority;
    },
  };
}

} // namespace

caf::actor spawn_membership(caf::actor_system& sys, membership_settings cfg,
                            cluster_registry registry, caf::actor router,
                            caf::actor queue, std::string registration,
                            caf::actor notifier) {
  return sys.spawn(membership, std::move(cfg), std::move(registry),
                   std::move(router), std::move(queue),
                   std::move(registration), std::move(notifier));
}

} // namespace psp
