#include "adapters/http/idempotency.hpp"
#include "adapters/http/list_pagination.hpp"
#include "adapters/http/object_ids.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/http/routes.hpp"
#include "adapters/http/text_checks.hpp"

#include "actors/clock.hpp"
#include "adapters/crash_point.hpp"
#include "adapters/crypto/random_id.hpp"
#include "adapters/crypto/webhook_signature.hpp"
#include "adapters/http_client/address_policy.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/scripts.hpp"

#include <httplib.h>

#include <algorithm>
#include <array>
#include <optional>

namespace psp::http {

namespace {

using json = nlohmann::json;

/// Stripe's limit. Each endpoint gets its own POST of every event it
/// subscribes to, so without one a merchant multiplied each payment's
/// webhooks at will (the audit made one payment 502 POSTs; decision 48).
constexpr size_t webhook_endpoints_per_merchant_max = 16;

/// Event types an endpoint may subscribe to: "*" (all), the types this PSP
/// emits, and Stripe's other types of the same objects, which it never
/// emits (a store that follows Stripe's guides subscribes to
/// checkout.session.async_payment_succeeded, say: refusing the whole
/// endpoint for it would break its start-up; docs/api.md lists which).
constexpr std::array<const char*, 30> known_events{
  "*",
  // Emitted.
  "checkout.session.completed",
  "checkout.session.expired",
  "payment_intent.succeeded",
  "payment_intent.payment_failed",
  "payment_intent.amount_capturable_updated",
  "payment_intent.canceled",
  "charge.refunded",
  "refund.created",
  "refund.updated",
  "refund.failed",
  // Stripe's, never emitted here.
  "checkout.session.async_payment_failed",
  "checkout.session.async_payment_succeeded",
  "payment_intent.created",
  "payment_intent.partially_funded",
  "payment_intent.processing",
  "payment_intent.requires_action",
  "charge.captured",
  "charge.expired",
  "charge.failed",
  "charge.pending",
  "charge.succeeded",
  "charge.updated",
  "charge.refund.updated",
  "charge.dispute.created",
  "charge.dispute.updated",
  "charge.dispute.closed",
  "charge.dispute.funds_withdrawn",
  "charge.dispute.funds_reinstated",
  "balance.available"};

std::variant<std::string, api_error> enabled_events(const json& params) {
  if (!params.contains("enabled_events")) {
    return missing_param("enabled_events");
  }
  auto& ev = params["enabled_events"];
  constexpr size_t events_max = 64;
  if (!ev.is_array() || ev.empty()) {
    return invalid_param("enabled_events", "enabled_events must be a list "
                                           "(enabled_events[]=...).");
  }
  if (ev.size() > events_max) {
    return invalid_param("enabled_events",
                         "enabled_events lists at most "
                           + std::to_string(events_max) + " event types; "
                           + std::to_string(ev.size()) + " were given.");
  }
  std::string joined;
  std::vector<std::string> seen;
  for (auto& e : ev) {
    auto name = e.is_string() ? e.get<std::string>() : std::string{};
    bool known = std::any_of(known_events.begin(), known_events.end(),
                             [&](const char* k) { return name == k; });
    if (!known) {
      return invalid_param("enabled_events",
                           "Invalid event type: '" + name + "'.");
    }
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      continue; // listed twice: subscribed once
    }
    seen.push_back(name);
    joined += (joined.empty() ? "" : ",") + name;
  }
  return joined;
}

api_error invalid_url() {
  return invalid_param("url", "Invalid URL: expected an absolute http or "
                              "https URL with a host.");
}

/// Why the node may not POST to `url`, or nullopt. Unless the node allows
/// private addresses, a host that is the operator's own network (an IP
/// literal in a private range, localhost) is refused here; the addresses a
/// DNS name resolves to are judged by the webhook client when it connects
/// (decision 48).
std::optional<api_error> url_error(const api_settings& settings,
                                   const std::string& url) {
  if (!is_http_url(url)) {
    return invalid_url();
  }
  if (settings.webhook_private_addresses) {
    return std::nullopt;
  }
  std::string host{url_host(url)};
  const std::string must_be_public = " Webhook endpoints must be reachable "
                                     "on the public internet.";
  switch (http_client::judge_host(host)) {
    case http_client::host_verdict::allowed:
      return std::nullopt;
    case http_client::host_verdict::private_address:
      return invalid_param("url", "Invalid URL: " + host
                                    + " is a loopback, private, link-local "
                                      "or reserved address."
                                    + must_be_public);
    case http_client::host_verdict::local_name:
      return invalid_param("url", "Invalid URL: " + host
                                    + " names the local machine."
                                    + must_be_public);
    case http_client::host_verdict::non_canonical_ipv4:
      return invalid_param("url", "Invalid URL: " + host
                                    + " is read as an IPv4 address; write "
                                      "one as four decimal numbers "
                                      "(a.b.c.d).");
    case http_client::host_verdict::malformed_ipv6:
      return invalid_param("url", "Invalid URL: [" + host
                                    + "] is not an IPv6 address.");
  }
  return invalid_url();
}

/// 400 invalid_request_error, no param: no value of this request's
/// parameters would pass.
api_error too_many_endpoints() {
  api_error e;
  e.message = "You have reached the maximum of "
              + std::to_string(webhook_endpoints_per_merchant_max)
              + " webhook endpoints. Delete one before adding another.";
  return e;
}

std::variant<render::fields, api_error>
owned_endpoint(redis::connection& conn, const merchant_info& merchant,
               const std::string& id);

void create_endpoint(api_context& ctx, const httplib::Request& req,
                     httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  auto body = decode_body(req);
  if (auto* err = std::get_if<api_error>(&body)) {
    return write_error(res, *err);
  }
  auto& params = std::get<json>(body);
  if (auto err = reject_unknown(params, {"url", "enabled_events", "description",
                                         "metadata", "api_version"})) {
    return write_error(res, *err);
  }
  if (auto err = reject_non_strings(params, {"url", "description",
                                             "api_version"})) {
    return write_error(res, *err);
  }
  auto url = params.value("url", "");
  if (url.empty()) {
    return write_error(res, missing_param("url"));
  }
  if (auto err = url_error(ctx.settings, url)) {
    return write_error(res, *err);
  }
  auto events = enabled_events(params);
  if (auto* err = std::get_if<api_error>(&events)) {
    return write_error(res, *err);
  }
  auto md = metadata_param(params);
  if (auto* err = std::get_if<api_error>(&md)) {
    return write_error(res, *err);
  }
  auto& merchant = std::get<merchant_info>(who);
  auto id = object_id("we_");
  auto secret = crypto::new_webhook_secret();
  pause_point("before_endpoint_write");
  auto conn = ctx.redis.acquire();
  // Under a derived id the endpoint may exist already: written by an
  // earlier run of this request, whose answer was lost or which stalled
  // while the retry wrote it. Then it is answered as it stands, secret and
  // all, as the first answer would have been.
  auto out = redis::eval(
    *conn, redis::create_endpoint_script(),
    {keys::endpoint(id), keys::merchant_endpoints(merchant.id),
     keys::endpoint_deleted(id)},
    {id, std::to_string(webhook_endpoints_per_merchant_max), "id", id,
     "merchant", merchant.id, "url", url, "secret", secret,
     "enabled_events", std::get<std::string>(events), "status", "enabled",
     "description", params.value("description", ""), "metadata",
     std::get<std::string>(md), "created", std::to_string(unix_now_s())});
  if (!out || out->is_error()) {
    return write_error(res, unavailable("Creating webhook endpoints"));
  }
  if (!out->is_array() && out->text() == "too_many") {
    return write_error(res, too_many_endpoints());
  }
  if (!out->is_array()) { // deleted since an earlier run created it
    return write_error(res, not_found("webhook_endpoint", id));
  }
  write_json(res, render::webhook_endpoint(to_fields(*out), true).dump());
}

void list_endpoints(api_context& ctx, const httplib::Request& req,
                    httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  auto query = parse_list_query(req, {});
  if (auto* err = std::get_if<api_error>(&query)) {
    return write_error(res, *err);
  }
  auto& q = std::get<list_query>(query);
  auto conn = ctx.redis.acquire();
  auto ids = conn->query(
    {"SMEMBERS", keys::merchant_endpoints(std::get<merchant_info>(who).id)});
  if (!ids) {
    return write_error(res, unavailable("Listing webhook endpoints"));
  }
  std::vector<std::vector<std::string>> reads;
  for (auto& id : ids->elements) {
    reads.push_back({"HGETALL", keys::endpoint(id.text())});
  }
  auto data = json::array();
  if (!reads.empty()) {
    auto rows = conn->query_all(reads);
    if (!rows) {
      return write_error(res, unavailable("Listing webhook endpoints"));
    }
    for (auto& row : *rows) {
      auto e = render::webhook_endpoint(to_fields(row), false);
      auto created = e["created"].get<int64_t>();
      if (created >= q.created_min_s && created <= q.created_max_s) {
        data.push_back(std::move(e));
      }
    }
  }
  // Newest first, as Stripe lists; the id breaks ties within a second.
  std::sort(data.begin(), data.end(), [](const json& a, const json& b) {
    auto ca = a["created"].get<int64_t>(), cb = b["created"].get<int64_t>();
    return ca != cb ? ca > cb
                    : a["id"].get<std::string>() > b["id"].get<std::string>();
  });
  // A merchant has at most 16 endpoints: the page is cut from all of them.
  auto position = [&](const std::string& id) -> std::optional<size_t> {
    for (size_t i = 0; i < data.size(); ++i) {
      if (data[i]["id"] == id) {
        return i;
      }
    }
    return std::nullopt;
  };
  auto limit = static_cast<size_t>(q.limit);
  size_t from = 0, to = data.size();
  auto unknown = [&](const char* param, const std::string& id) {
    write_error(res, invalid_param(param, "No such webhook endpoint: '" + id
                                            + "'."));
  };
  if (!q.starting_after.empty()) {
    auto at = position(q.starting_after);
    if (!at) {
      return unknown("starting_after", q.starting_after);
    }
    from = *at + 1;
  }
  if (!q.ending_before.empty()) {
    auto at = position(q.ending_before);
    if (!at) {
      return unknown("ending_before", q.ending_before);
    }
    to = *at;
  }
  bool has_more = false;
  if (to > from && to - from > limit) {
    has_more = true;
    // ending_before pages backwards: the `limit` just before the cursor.
    if (!q.ending_before.empty() && q.starting_after.empty()) {
      from = to - limit;
    } else {
      to = from + limit;
    }
  }
  auto page = json::array();
  for (size_t i = from; i < to && i < data.size(); ++i) {
    page.push_back(std::move(data[i]));
  }
  write_json(res, json{{"object", "list"},
                       {"data", std::move(page)},
                       {"has_more", has_more},
                       {"url", "/v1/webhook_endpoints"}}
                    .dump());
}

void retrieve_endpoint(api_context& ctx, const httplib::Request& req,
                       httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  auto conn = ctx.redis.acquire();
  auto found = owned_endpoint(*conn, std::get<merchant_info>(who),
                              req.matches[1]);
  if (auto* err = std::get_if<api_error>(&found)) {
    return write_error(res, *err);
  }
  write_json(res,
             render::webhook_endpoint(std::get<render::fields>(found), false)
               .dump());
}

/// The endpoint if it exists and belongs to the merchant, else the error.
std::variant<render::fields, api_error>
owned_endpoint(redis::connection& conn, const merchant_info& merchant,
               const std::string& id) {
  auto reply = conn.query({"HGETALL", keys::endpoint(id)});
  if (!reply) {
    return unavailable("Webhook endpoints");
  }
  auto f = to_fields(*reply);
  if (f.empty() || f["merchant"] != merchant.id) {
    return not_found("webhook_endpoint", id);
  }
  return f;
}

void update_endpoint(api_context& ctx, const httplib::Request& req,
                     httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  auto body = decode_body(req);
  if (auto* err = std::get_if<api_error>(&body)) {
    return write_error(res, *err);
  }
  auto& params = std::get<json>(body);
  if (auto err = reject_unknown(params, {"url", "enabled_events", "description",
                                         "metadata", "disabled"})) {
    return write_error(res, *err);
  }
  if (auto err = reject_non_strings(params, {"url", "description",
                                             "disabled"})) {
    return write_error(res, *err);
  }
  std::vector<std::string> changes; // field, value, ...
  if (params.contains("url")) {
    auto url = params.value("url", "");
    if (auto err = url_error(ctx.settings, url)) {
      return write_error(res, *err);
    }
    changes.insert(changes.end(), {"url", url});
  }
  if (params.contains("enabled_events")) {
    auto events = enabled_events(params);
    if (auto* err = std::get_if<api_error>(&events)) {
      return write_error(res, *err);
    }
    changes.insert(changes.end(), {"enabled_events", std::get<std::string>(events)});
  }
  if (params.contains("disabled")) {
    auto d = params.value("disabled", "");
    if (d != "true" && d != "false") {
      return write_error(res, invalid_param("disabled", "disabled must be "
                                                        "true or false."));
    }
    changes.insert(changes.end(), {"status", d == "true" ? "disabled" : "enabled"});
  }
  if (params.contains("description")) {
    changes.insert(changes.end(), {"description", params.value("description", "")});
  }
  if (params.contains("metadata")) {
    auto md = metadata_param(params);
    if (auto* err = std::get_if<api_error>(&md)) {
      return write_error(res, *err);
    }
    changes.insert(changes.end(), {"metadata", std::get<std::string>(md)});
  }
  // Ownership is checked in the step that writes: an update racing a
  // delete is a 404, never a hash brought back without its secret.
  std::vector<std::string> args{std::get<merchant_info>(who).id};
  args.insert(args.end(), changes.begin(), changes.end());
  pause_point("before_endpoint_update");
  auto conn = ctx.redis.acquire();
  auto after = redis::eval(*conn, redis::update_endpoint_script(),
                           {keys::endpoint(req.matches[1])}, args);
  if (!after || after->is_error()) {
    return write_error(res, unavailable("Webhook endpoints"));
  }
  if (!after->is_array()) {
    return write_error(res, not_found("webhook_endpoint", req.matches[1]));
  }
  write_json(res, render::webhook_endpoint(to_fields(*after), false).dump());
}

void delete_endpoint(api_context& ctx, const httplib::Request& req,
                     httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  std::string id = req.matches[1];
  auto& merchant = std::get<merchant_info>(who);
  auto conn = ctx.redis.acquire();
  auto found = owned_endpoint(*conn, merchant, id);
  if (auto* err = std::get_if<api_error>(&found)) {
    return write_error(res, *err);
  }
  // Deliveries still scheduled for it are dropped when they come due.
  // The mark keeps a late run of the request that created it (same derived
  // id) from bringing it back, for as long as that request's key holds.
  auto out = conn->query_all(
    {{"MULTI"},
     {"DEL", keys::endpoint(id)},
     {"SREM", keys::merchant_endpoints(merchant.id), id},
     {"SET", keys::endpoint_deleted(id), "1", "EX",
      std::to_string(ctx.settings.idempotency_ttl_s)},
     {"EXEC"}});
  if (!out || !out->back().is_array()) {
    return write_error(res, unavailable("Webhook endpoints"));
  }
  write_json(res, json{{"id", id}, {"object", "webhook_endpoint"},
                       {"deleted", true}}
                    .dump());
}

} // namespace

void add_webhook_endpoint_routes(httplib::Server& srv, api_context& ctx) {
  post_idempotent(srv, ctx, "/v1/webhook_endpoints",
                  [&ctx](const httplib::Request& req, httplib::Response& res) {
                    create_endpoint(ctx, req, res);
                  });
  srv.Get("/v1/webhook_endpoints",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            list_endpoints(ctx, req, res);
          });
  post_idempotent(srv, ctx, R"(/v1/webhook_endpoints/([A-Za-z0-9_]+))",
                  [&ctx](const httplib::Request& req, httplib::Response& res) {
                    update_endpoint(ctx, req, res);
                  });
  srv.Delete(R"(/v1/webhook_endpoints/([A-Za-z0-9_]+))",
             [&ctx](const httplib::Request& req, httplib::Response& res) {
               delete_endpoint(ctx, req, res);
             });
  srv.Get(R"(/v1/webhook_endpoints/([A-Za-z0-9_]+))",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            retrieve_endpoint(ctx, req, res);
          });
}

} // namespace psp::http
