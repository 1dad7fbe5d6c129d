#include "adapters/http/checkout_request.hpp"
#include "adapters/http/idempotency.hpp"
#include "adapters/http/list_pagination.hpp"
#include "adapters/http/object_ids.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/http/routes.hpp"

#include "actors/clock.hpp"
#include "adapters/crypto/random_id.hpp"
#include "adapters/redis/keys.hpp"

#include <httplib.h>

namespace psp::http {

namespace {

using json = nlohmann::json;

void create_session(api_context& ctx, const httplib::Request& req,
                    httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  auto& merchant = std::get<merchant_info>(who);
  auto body = decode_body(req);
  if (auto* err = std::get_if<api_error>(&body)) {
    return write_error(res, *err);
  }
  auto now = unix_now_s();
  auto parsed = parse_checkout_request(std::get<json>(body), now,
                                       ctx.settings.session_ttl_s);
  if (auto* err = std::get_if<api_error>(&parsed)) {
    return write_error(res, *err);
  }
  auto& co = std::get<checkout_request>(parsed);
  auto cs_id = object_id("cs_test_");
  auto pi_id = object_id("pi_");
  auto conn = ctx.redis.acquire();
  if (ids_are_derived()) {
    // A re-run of an Idempotency-Key request whose answer was lost: the
    // session exists already; answer with it rather than make another.
    auto existing = conn->query({"HGETALL", keys::session(cs_id)});
    if (!existing) {
      return write_error(res, unavailable("Creating checkout sessions"));
    }
    if (!existing->elements.empty()) {
      return write_json(res,
                        render::checkout_session(to_fields(*existing)).dump());
    }
  }
  auto url = ctx.settings.public_url + "/pay/" + cs_id;
  auto now_text = std::to_string(now);
  auto now_ms = std::to_string(unix_now_ms());
  auto amount = std::to_string(co.amount_total_minor);
  // Session and intent are written together (MULTI/EXEC in one round trip):
  // a reader never sees one without the other.
  std::vector<std::vector<std::string>> cmds{
    {"MULTI"},
    {"HSET", keys::session(cs_id), "id", cs_id, "merchant", merchant.id,
     "merchant_name", merchant.name, "intent", pi_id, "status", "open",
     "payment_status", "unpaid", "amount_total", amount, "currency",
     co.currency, "line_items", co.line_items_json, "success_url",
     co.success_url, "cancel_url", co.cancel_url, "client_reference_id",
     co.client_reference_id, "customer_email", co.customer_email, "metadata",
     co.metadata_json, "expires_at", std::to_string(co.expires_at_s),
     "created", now_text, "url", url},
    {"HSET", keys::intent(pi_id), "id", pi_id, "merchant", merchant.id,
     "session", cs_id, "amount", amount, "currency", co.currency, "status",
     "requires_payment_method", "created", now_text, "metadata",
     co.metadata_json, "fee_bps", std::to_string(merchant.fee_bps),
     "fee_fixed_minor", std::to_string(merchant.fee_fixed_minor)},
    // Lists are ordered by these scores: milliseconds, so that sessions
    // created one after the other keep their order.
    {"ZADD", keys::merchant_sessions(merchant.id), now_ms, cs_id},
    {"ZADD", keys::merchant_intents(merchant.id), now_ms, pi_id},
    {"EXEC"},
    {"HGETALL", keys::session(cs_id)}};
  auto out = conn->query_all(cmds);
  if (!out || !(*out)[cmds.size() - 2].is_array()) {
    return write_error(res, unavailable("Creating checkout sessions"));
  }
  ++ctx.counters.sessions_created;
  write_json(res, render::checkout_session(to_fields(out->back())).dump());
}

/// Reads a merchant's own session; 404 for anyone else's.
std::variant<render::fields, api_error>
load_session(api_context& ctx, const merchant_info& merchant,
             const std::string& id) {
  auto conn = ctx.redis.acquire();
  auto reply = conn->query({"HGETALL", keys::session(id)});
  if (!reply) {
    return unavailable("Reading checkout sessions");
  }
  auto f = to_fields(*reply);
  if (f.empty() || f["merchant"] != merchant.id) {
    return not_found("checkout.session", id);
  }
  apply_lazy_expiry(f, unix_now_s());
  return f;
}

void retrieve_session(api_context& ctx, const httplib::Request& req,
                      httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  auto f = load_session(ctx, std::get<merchant_info>(who), req.matches[1]);
  if (auto* err = std::get_if<api_error>(&f)) {
    return write_error(res, *err);
  }
  write_json(res, render::checkout_session(std::get<render::fields>(f)).dump());
}

void list_sessions(api_context& ctx, const httplib::Request& req,
                   httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  auto& merchant = std::get<merchant_info>(who);
  auto query = parse_list_query(req, {});
  if (auto* err = std::get_if<api_error>(&query)) {
    return write_error(res, *err);
  }
  auto conn = ctx.redis.acquire();
  // Scored in ms when created (created_s * 1000 + ms): exact, no slack.
  list_source src{keys::merchant_sessions(merchant.id), "checkout.session",
                  1000, 0};
  auto page = collect_page(*conn, src, std::get<list_query>(query));
  if (auto* err = std::get_if<api_error>(&page)) {
    return write_error(res, *err);
  }
  auto& p = std::get<list_page>(page);
  std::vector<std::vector<std::string>> reads;
  for (auto& id : p.ids) {
    reads.push_back({"HGETALL", keys::session(id)});
  }
  auto data = json::array();
  if (!reads.empty()) {
    auto rows = conn->query_all(reads);
    if (!rows) {
      return write_error(res, unavailable("Listing checkout sessions"));
    }
    auto now = unix_now_s();
    for (auto& row : *rows) {
      auto f = to_fields(row);
      apply_lazy_expiry(f, now);
      data.push_back(render::checkout_session(f));
    }
  }
  write_json(res, list_body(std::move(data), p.has_more,
                            "/v1/checkout/sessions")
                    .dump());
}

} // namespace

void add_checkout_routes(httplib::Server& srv, api_context& ctx) {
  post_idempotent(srv, ctx, "/v1/checkout/sessions",
                  [&ctx](const httplib::Request& req, httplib::Response& res) {
                    create_session(ctx, req, res);
                  });
  srv.Get("/v1/checkout/sessions",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            list_sessions(ctx, req, res);
          });
  srv.Get(R"(/v1/checkout/sessions/([A-Za-z0-9_]+))",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            retrieve_session(ctx, req, res);
          });
}

} // namespace psp::http
