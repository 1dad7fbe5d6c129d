// GET /v1/events/{id} and GET /v1/events: the events the commit step stored
// (evt:<id>, indexed by merchant:<id>:events scored by creation ms), rendered
// by render::event exactly as the webhook bodies are.

#include "adapters/http/list_pagination.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/http/routes.hpp"
#include "adapters/http/stored_event.hpp"

#include "adapters/redis/archive_store.hpp"
#include "adapters/redis/keys.hpp"

#include <httplib.h>

#include <algorithm>

namespace psp::http {

namespace {

using json = nlohmann::json;

constexpr size_t types_max = 20;
constexpr size_t type_length_max = 200;

/// Stripe's event type filter: exact, or with '*' standing for any run of
/// characters ("checkout.session.*"). Linear backtracking glob, bounded by
/// the lengths (pattern <= 200 characters).
bool type_matches(const std::string& pattern, const std::string& type) {
  size_t p = 0;
  size_t t = 0;
  size_t star = std::string::npos;
  size_t resume = 0;
  while (t < type.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == type[t]) {
      ++p;
      ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

struct event_filters {
  std::vector<std::string> type_patterns; ///< empty: every type
  std::optional<bool> delivery_success;
};

/// A webhook delivery's record: a field of its event's hash, written by the
/// Lua in adapters/redis/lua_events.cpp as `status|attempts|at|error`.
std::string delivery_field(const std::string& endpoint_id) {
  return "wh:" + endpoint_id;
}

/// The hash a delivery had of its own before version 21 of the decisions
/// (moved into the event when the notification queue next reads it).
std::string legacy_delivery_key(const std::string& event_id,
                                const std::string& endpoint_id) {
  return "wh:" + event_id + ":" + endpoint_id;
}

/// The status of a delivery from its event's field or its legacy hash.
std::optional<std::string> delivery_status(const redis::value& field,
                                           const redis::value& legacy) {
  if (field.type == redis::value::kind::string) {
    auto& v = field.text();
    return v.substr(0, v.find('|'));
  }
  if (legacy.type == redis::value::kind::string) {
    return legacy.text();
  }
  return std::nullopt;
}

std::optional<api_error> add_type(event_filters& ef, const std::string& param,
                                  const std::string& value) {
  if (value.empty() || value.size() > type_length_max) {
    return invalid_param(param, "Invalid event type: '" + value + "'.");
  }
  ef.type_patterns.push_back(value);
  return std::nullopt;
}

std::variant<event_filters, api_error>
parse_event_filters(const httplib::Request& req) {
  event_filters ef;
  bool has_types = false;
  for (auto& [key, value] : req.params) {
    if (key.rfind("type[", 0) == 0 || key.rfind("delivery_success[", 0) == 0) {
      return invalid_param(key.substr(0, key.find('[')),
                           "Invalid value: expected a string.");
    }
    if (key.rfind("types", 0) == 0) {
      if (key != "types" && key.rfind("types[", 0) != 0) {
        return unknown_param(key);
      }
      has_types = true;
      if (auto err = add_type(ef, "types", value)) {
        return *err;
      }
    }
  }
  if (ef.type_patterns.size() > types_max) {
    return invalid_param("types", "types can hold at most 20 event types.");
  }
  if (req.has_param("type")) {
    if (has_types) {
      return invalid_param("types", "You may only specify one of these "
                                    "parameters: type, types.");
    }
    if (auto err = add_type(ef, "type", req.get_param_value("type"))) {
      return *err;
    }
  }
  if (req.has_param("delivery_success")) {
    auto v = req.get_param_value("delivery_success");
    if (v != "true" && v != "false") {
      return invalid_param("delivery_success", "delivery_success must be "
                                               "true or false.");
    }
    ef.delivery_success = v == "true";
  }
  return ef;
}

/// Whether one event passes the filters, from its HMGET of type, created
/// and one delivery field per endpoint, and the endpoints' legacy statuses.
bool event_passes(const event_filters& ef, const list_query& q,
                  const redis::value& meta,
                  std::vector<redis::value>::const_iterator legacy,
                  size_t endpoints) {
  if (!meta.is_array() || meta.elements.size() != 2 + endpoints) {
    return false;
  }
  auto& type = meta.elements[0].text();
  if (!ef.type_patterns.empty()
      && std::none_of(ef.type_patterns.begin(), ef.type_patterns.end(),
                      [&](const std::string& p) {
                        return type_matches(p, type);
                      })) {
    return false;
  }
  auto created = parse_count(meta.elements[1].text()).value_or(0);
  if (created < q.created_min_s || created > q.created_max_s) {
    return false;
  }
  if (!ef.delivery_success) {
    return true;
  }
  // A delivery exists only for endpoints subscribed when the event was
  // committed; pending, dead and dropped all count as not delivered.
  bool undelivered = false;
  for (size_t i = 0; i < endpoints; ++i, ++legacy) {
    auto status = delivery_status(meta.elements[2 + i], *legacy);
    undelivered = undelivered || (status && *status != "delivered");
  }
  return *ef.delivery_success ? !undelivered : undelivered;
}

/// The batch filter of the list; `endpoints` are the merchant's webhook
/// endpoints (only read when filtering on delivery_success).
id_filter event_filter(const event_filters& ef, const list_query& q,
                       std::vector<std::string> endpoints) {
  return [ef, q, endpoints](redis::connection& conn,
                            const std::vector<std::string>& ids)
           -> std::optional<std::vector<bool>> {
    std::vector<std::vector<std::string>> cmds;
    for (auto& id : ids) {
      std::vector<std::string> meta{"HMGET", keys::event(id), "type",
                                    "created"};
      for (auto& ep : endpoints) {
        meta.push_back(delivery_field(ep));
      }
      cmds.push_back(std::move(meta));
      for (auto& ep : endpoints) {
        cmds.push_back({"HGET", legacy_delivery_key(id, ep), "status"});
      }
    }
    auto replies = redis::query_fields(conn, cmds); // archived ones too
    if (!replies || replies->size() != cmds.size()) {
      return std::nullopt;
    }
    std::vector<bool> keep;
    auto at = replies->cbegin();
    for (size_t i = 0; i < ids.size(); ++i) {
      keep.push_back(event_passes(ef, q, *at, at + 1, endpoints.size()));
      at += static_cast<std::ptrdiff_t>(1 + endpoints.size());
    }
    return keep;
  };
}

void retrieve_event(api_context& ctx, const httplib::Request& req,
                    httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  std::string id = req.matches[1];
  auto& merchant = std::get<merchant_info>(who);
  auto f = read_owned(ctx, merchant, keys::event(id), "event", id, "events");
  if (auto* err = std::get_if<api_error>(&f)) {
    return write_error(res, *err);
  }
  auto live = live_endpoints(*ctx.redis.acquire(), merchant.id);
  if (!live) {
    return write_error(res, unavailable("Reading events"));
  }
  write_json(res,
             render_stored_event(id, std::get<render::fields>(f), *live).dump());
}

void list_events(api_context& ctx, const httplib::Request& req,
                 httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  auto& merchant = std::get<merchant_info>(who);
  auto query = parse_list_query(req, {"type", "types", "delivery_success"},
                                {"types"});
  if (auto* err = std::get_if<api_error>(&query)) {
    return write_error(res, *err);
  }
  auto& q = std::get<list_query>(query);
  auto filters = parse_event_filters(req);
  if (auto* err = std::get_if<api_error>(&filters)) {
    return write_error(res, *err);
  }
  auto& ef = std::get<event_filters>(filters);
  auto conn = ctx.redis.acquire();
  id_filter filter;
  if (!ef.type_patterns.empty() || ef.delivery_success || q.filters_created()) {
    std::vector<std::string> endpoints;
    if (ef.delivery_success) {
      auto members = conn->query({"SMEMBERS",
                                keys::merchant_endpoints(merchant.id)});
      if (!members) {
        return write_error(res, unavailable("Listing events"));
      }
      for (auto& m : members->elements) {
        endpoints.push_back(m.text());
      }
    }
    filter = event_filter(ef, q, std::move(endpoints));
  }
  // The score is the commit's ms clock, read apart from its `created`
  // second: a slack of one second, and the filter checks `created` exactly.
  list_source src{keys::merchant_events(merchant.id), "event", 1000, 1000};
  auto page = collect_page(*conn, src, q, filter);
  if (auto* err = std::get_if<api_error>(&page)) {
    return write_error(res, *err);
  }
  auto& p = std::get<list_page>(page);
  auto live = live_endpoints(*conn, merchant.id);
  if (!live) {
    return write_error(res, unavailable("Listing events"));
  }
  auto data = render_rows(*conn, p.ids, keys::event,
                          [&](const std::string& id, render::fields& f) {
                            return render_stored_event(id, f, *live);
                          });
  if (!data) {
    return write_error(res, unavailable("Listing events"));
  }
  write_json(res, list_body(std::move(*data), p.has_more, "/v1/events").dump());
}

} // namespace

void add_event_routes(httplib::Server& srv, api_context& ctx) {
  srv.Get("/v1/events",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            list_events(ctx, req, res);
          });
  srv.Get(R"(/v1/events/([A-Za-z0-9_]+))",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            retrieve_event(ctx, req, res);
          });
}

} // namespace psp::http
