#include "adapters/http/stored_event.hpp"

#include "adapters/http/request_support.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/redis_connection.hpp"
#include "adapters/redis/scripts.hpp"

namespace psp::http {

namespace {

constexpr std::string_view delivery_prefix = "wh:";

/// Stripe's pending_webhooks: the event's deliveries not (yet) delivered,
/// from their records in the event's hash (`wh:<endpoint>` =
/// `status|attempts|...`, decision 21); a dead-lettered one counts until a
/// replay delivers it; a dropped one, or one to an endpoint deleted or
/// disabled since (the API audit saw a deleted endpoint's delivery counted
/// until its next try, hours later on the default schedule), never will be
/// and does not.
int64_t undelivered_webhooks(const render::fields& f,
                             const std::set<std::string>& live) {
  int64_t n = 0;
  for (auto& [field, record] : f) {
    if (field.rfind(delivery_prefix, 0) != 0) {
      continue;
    }
    auto status = record.substr(0, record.find('|'));
    if (status != "delivered" && status != "dropped"
        && live.count(field.substr(delivery_prefix.size())) > 0) {
      ++n;
    }
  }
  return n;
}

} // namespace

std::optional<std::set<std::string>>
live_endpoints(redis::connection& conn, const std::string& merchant_id) {
  // One round trip: the statuses depend on the members read first.
  static const auto script = redis::make_script("live_endpoints", R"lua(
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('HGET', 'we:' .. id, 'status') == 'enabled' then
    table.insert(out, id)
  end
end
return out
)lua");
  auto ids = redis::eval(conn, script, {keys::merchant_endpoints(merchant_id)},
                         {});
  if (!ids || !ids->is_array()) {
    return std::nullopt;
  }
  std::set<std::string> live;
  for (auto& id : ids->elements) {
    live.insert(id.text());
  }
  return live;
}

nlohmann::json render_stored_event(const std::string& id, render::fields& f,
                                   const std::set<std::string>& live) {
  auto out = render::event(id, f["type"],
                           parse_count(f["created"]).value_or(0), f["object"],
                           f["snapshot"]);
  out["pending_webhooks"] = undelivered_webhooks(f, live);
  return out;
}

} // namespace psp::http
