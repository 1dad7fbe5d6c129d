#include "adapters/http/stored_event.hpp"

#include "adapters/http/request_support.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/redis_connection.hpp"

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
  auto members = conn.query({"SMEMBERS", keys::merchant_endpoints(merchant_id)});
  if (!members) {
    return std::nullopt;
  }
  std::vector<std::vector<std::string>> reads;
  for (auto& m : members->elements) {
    reads.push_back({"HGET", keys::endpoint(m.text()), "status"});
  }
  std::set<std::string> live;
  if (reads.empty()) {
    return live;
  }
  auto statuses = conn.query_all(reads);
  if (!statuses || statuses->size() != reads.size()) {
    return std::nullopt;
  }
  for (size_t i = 0; i < reads.size(); ++i) {
    if (!(*statuses)[i].is_nil() && (*statuses)[i].text() == "enabled") {
      live.insert(members->elements[i].text());
    }
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
