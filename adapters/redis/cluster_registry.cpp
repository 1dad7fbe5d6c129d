#include "adapters/redis/cluster_registry.hpp"

#include "actors/errors.hpp"
#include "adapters/crypto/random_id.hpp"
#include "adapters/redis/scripts.hpp"
#include "adapters/thread_name.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace psp::redis {

namespace {

const std::string epoch_key = "cluster:epoch";

// KEYS: node key, members, epoch counter, leave mark. ARGV: token, address,
// ttl ms, id.
const script& join_script() {
  static const script s = make_script("cluster_join", R"lua(
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, #ARGV[1] + 1) ~= ARGV[1] .. '|' then
  return redis.error_reply('DUPLICATE')
end
local epoch = redis.call('INCR', KEYS[3])
local value = ARGV[1] .. '|' .. epoch .. '|' .. ARGV[2]
redis.call('SET', KEYS[1], value, 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('DEL', KEYS[4])
return value
)lua");
  return s;
}

// KEYS: node key, leave mark. ARGV: token, leave mark ttl ms.
const script& leave_script() {
  static const script s = make_script("cluster_leave", R"lua(
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, #ARGV[1] + 1) ~= ARGV[1] .. '|' then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
return 1
)lua");
  return s;
}

// KEYS: node key. ARGV: registration value, ttl ms.
const script& beat_script() {
  static const script s = make_script("cluster_beat", R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
)lua");
  return s;
}

struct registry_state {
  static inline const char* name = "psp.redis.cluster_registry";
  std::unique_ptr<connection> conn;
  std::string token;  ///< this process's; a restart is a new registrant
};

caf::expected<std::vector<member_info>> live_members(connection& conn) {
  auto ids = conn.run({"SMEMBERS", cluster_members_key});
  if (!ids || !ids->is_array()) {
    return make_error(errc::redis_unavailable, conn.last_error());
  }
  std::vector<member_info> out;
  if (ids->elements.empty()) {
    return out;
  }
  // Each member's registration, then each one's leave mark.
  std::vector<std::string> mget{"MGET"};
  for (auto& id : ids->elements) {
    mget.push_back(node_registration_key(id.text()));
  }
  for (auto& id : ids->elements) {
    mget.push_back(node_left_key(id.text()));
  }
  auto values = conn.run(mget);
  auto n = ids->elements.size();
  if (!values || !values->is_array() || values->elements.size() != 2 * n) {
    return make_error(errc::redis_unavailable, conn.last_error());
  }
  for (size_t i = 0; i < n; ++i) {
    auto& id = ids->elements[i].text();
    auto& v = values->elements[i].text();
    auto second_bar = v.find('|', v.find('|') + 1);
    if (!v.empty() && second_bar != std::string::npos) {
      out.push_back({id, v.substr(second_bar + 1), false});
    } else if (!values->elements[n + i].is_nil()) {
      out.push_back({id, "", true}); // stopped on purpose
    } // else expired: not alive
  }
  return out;
}

cluster_registry::behavior_type
registry(cluster_registry::stateful_pointer<registry_state> self,
         registry_settings cfg) {
  name_this_thread("psp.registry"); // a detached actor: its own thread
  self->state.conn = std::make_unique<connection>(cfg.where, cfg.timeout_ms);
  self->state.token = crypto::random_base62(16);
  auto ttl = std::to_string(cfg.ttl_ms);
  return {
    [=](join_atom, const std::string& node_id,
        const std::string& address) -> caf::result<std::string> {
      auto& conn = *self->state.conn;
      auto out = eval(conn, join_script(),
                      {node_registration_key(node_id), cluster_members_key,
                       epoch_key, node_left_key(node_id)},
                      {self->state.token, address, ttl, node_id});
      if (!out) {
        return make_error(errc::redis_unavailable, conn.last_error());
      }
      if (out->is_error()) {
        return make_error(errc::redis_rejected, out->str);
      }
      return out->text();
    },
    [=](beat_atom, const std::string& node_id,
        const std::string& value) -> caf::result<bool> {
      auto& conn = *self->state.conn;
      auto out = eval(conn, beat_script(), {node_registration_key(node_id)},
                      {value, ttl});
      if (!out || out->is_error()) {
        return make_error(errc::redis_unavailable, conn.last_error());
      }
      return out->integer == 1;
    },
    [=](members_atom) -> caf::result<std::vector<member_info>> {
      return live_members(*self->state.conn);
    },
  };
}

} // namespace

std::string node_registration_key(const std::string& node_id) {
  return "cluster:node:" + node_id;
}

std::string node_left_key(const std::string& node_id) {
  return "cluster:left:" + node_id;
}

std::string registration_token(const std::string& registration) {
  return registration.substr(0, registration.find('|'));
}

std::optional<bool> leave(connection& conn, const std::string& node_id,
                          const std::string& token) {
  auto out = eval(conn, leave_script(),
                  {node_registration_key(node_id), node_left_key(node_id)},
                  {token, std::to_string(left_mark_ttl_ms)});
  if (!out || out->is_error()) {
    return std::nullopt;
  }
  return out->integer == 1;
}

cluster_registry spawn_cluster_registry(caf::actor_system& sys,
                                        const registry_settings& cfg) {
  return sys.spawn<caf::detached>(registry, cfg);
}

} // namespace psp::redis
