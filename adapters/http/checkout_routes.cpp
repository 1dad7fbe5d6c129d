#include "adapters/http/checkout_request.hpp"
#include "adapters/http/expansion.hpp"
#include "adapters/http/idempotency.hpp"
#include "adapters/http/list_pagination.hpp"
#include "adapters/http/object_ids.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/http/routes.hpp"
#include "adapters/http/stored_reference.hpp"

#include "actors/clock.hpp"
#include "actors/payment_logic.hpp"
#include "adapters/redis/scripts.hpp"
#include "adapters/crash_point.hpp"
#include "adapters/crypto/random_id.hpp"
#include "adapters/redis/archive_store.hpp"
#include "adapters/redis/keys.hpp"

#include <httplib.h>

namespace psp::http {

namespace {

using json = nlohmann::json;

/// POST /v1/checkout/sessions in one Redis round trip: the answer is
/// rendered from the fields about to be written, and one Lua step writes the
/// session, its intent and (under an Idempotency-Key) the answer stored by
/// reference, or finds the key's earlier answer instead.
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
  auto& params = std::get<json>(body);
  auto idem = idempotent_write_for(ctx.settings.fingerprint_secret, req,
                                   merchant.id, params);
  if (auto* err = std::get_if<api_error>(&idem)) {
    return write_error(res, *err);
  }
  auto& once = std::get<idempotent_write>(idem);
  auto now = unix_now_s();
  auto parsed = parse_checkout_request(params, now, ctx.settings.session_ttl_s);
  if (auto* err = std::get_if<api_error>(&parsed)) {
    // A retry of a request that once succeeded replays it even when it
    // would no longer validate (expires_at has passed since, say). The
    // error itself is not stored: a corrected retry under the key runs.
    if (answer_if_key_used(ctx, once, res)) {
      return;
    }
    return write_error(res, *err);
  }
  auto& co = std::get<checkout_request>(parsed);
  auto cs_id = object_id("cs_test_");
  auto pi_id = object_id("pi_");
  auto url = ctx.settings.public_url + "/pay/" + cs_id;
  auto now_text = std::to_string(now);
  auto amount = std::to_string(co.amount_total_minor);
  std::vector<std::string> cs_fields{
    "id", cs_id, "merchant", merchant.id, "merchant_name", merchant.name,
    "intent", pi_id, "status", "open", "payment_status", "unpaid",
    "amount_total", amount, "currency", co.currency, "line_items",
    co.line_items_json, "success_url", co.success_url, "expires_at",
    std::to_string(co.expires_at_s), "created", now_text, "url", url};
  // Optional fields only when given: small hashes stay compact in Redis.
  for (auto& [field, value] :
       {std::pair{"cancel_url", &co.cancel_url},
        std::pair{"client_reference_id", &co.client_reference_id},
        std::pair{"customer_email", &co.customer_email}}) {
    if (!value->empty()) {
      cs_fields.insert(cs_fields.end(), {field, *value});
    }
  }
  if (co.metadata_json != "{}") {
    cs_fields.insert(cs_fields.end(), {"metadata", co.metadata_json});
  }
  render::fields written;
  for (size_t i = 0; i + 1 < cs_fields.size(); i += 2) {
    written[cs_fields[i]] = cs_fields[i + 1];
  }
  auto answer = render::checkout_session(written).dump();
  std::vector<std::string> args{
    std::to_string(unix_now_ms()), std::to_string(cs_fields.size()),
    once.fingerprint, once.key.empty() ? "" : session_as_created(written),
    std::to_string(ctx.settings.idempotency_ttl_s)};
  args.insert(args.end(), cs_fields.begin(), cs_fields.end());
  args.insert(args.end(),
              {"id", pi_id, "merchant", merchant.id, "session", cs_id,
               "amount", amount, "currency", co.currency, "status",
               "requires_payment_method", "created", now_text,
               "capture_method", co.capture_method, "fee_bps",
               std::to_string(merchant.fee_bps), "fee_fixed_minor",
               std::to_string(merchant.fee_fixed_minor)});
  if (co.metadata_json != "{}") {
    args.insert(args.end(), {"metadata", co.metadata_json});
  }
  auto conn = ctx.redis.acquire();
  auto out = redis::eval(*conn, redis::create_session_script(),
                         {keys::session(cs_id), keys::intent(pi_id),
                          keys::merchant_sessions(merchant.id),
                          keys::merchant_intents(merchant.id),
                          once.key.empty() ? "idem:" : once.redis_key,
                          keys::sessions_expiring},
                         args);
  conn.reset();
  if (!out || out->is_error() || !out->is_array() || out->elements.empty()) {
    return write_error(res, unavailable("Creating checkout sessions"));
  }
  if (answer_stored_verdict(*out, once.key, res)) {
    return;
  }
  crash_point("after_create_session");
  ++ctx.counters.sessions_created;
  res.status = 200;
  res.set_content(answer, "application/json");
}

/// Reads a merchant's own session; 404 for anyone else's.
std::variant<render::fields, api_error>
load_session(api_context& ctx, const merchant_info& merchant,
             const std::string& id) {
  // As stored: a session past expires_at reads open until the sweep
  // expires it (a second or so), so its status only ever moves forward.
  return read_owned(ctx, merchant, keys::session(id), "checkout.session", id,
                    "checkout sessions");
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
  auto& cs = std::get<render::fields>(f);
  write_expanded(ctx, req, res, expandable::checkout_session, cs,
                 render::checkout_session(cs));
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
  auto data = render_rows(*conn, p.ids, keys::session,
                          [](const std::string&, render::fields& f) {
                            return render::checkout_session(f);
                          });
  if (!data) {
    return write_error(res, unavailable("Listing checkout sessions"));
  }
  write_json(res, list_body(std::move(*data), p.has_more,
                            "/v1/checkout/sessions")
                    .dump());
}

void expire_session(api_context& ctx, const httplib::Request& req,
                    httplib::Response& res) {
  auto form = authenticated_form(ctx, req, res, {"expand"});
  if (!form) {
    return;
  }
  auto& merchant = form->merchant;
  auto f = load_session(ctx, merchant, req.matches[1]);
  if (auto* err = std::get_if<api_error>(&f)) {
    return write_error(res, *err);
  }
  auto& cs = std::get<render::fields>(f);
  auto conn = ctx.redis.acquire();
  auto out = redis::eval(
    *conn, redis::expire_session_script(),
    {keys::session(cs["id"]), keys::intent(cs["intent"]),
     keys::deliveries_due, keys::sessions_expiring},
    {std::to_string(unix_now_s()), std::to_string(unix_now_ms()),
     event_id_for(cs["id"], "E"), merchant.id});
  if (!out || out->is_error() || !out->is_array() || out->elements.empty()) {
    return write_error(res, unavailable("Expiring checkout sessions"));
  }
  auto verdict = out->elements[0].text();
  if (verdict == "state" || verdict == "busy") {
    api_error e;
    e.message = verdict == "busy"
                  ? "This Checkout Session has a payment in progress and "
                    "cannot be expired now."
                  : "Only Checkout Sessions with a status of open can be "
                    "expired; this one is "
                      + out->elements[1].text() + ".";
    e.code = "checkout_session_unexpected_state";
    return write_error(res, e);
  }
  auto now = redis::read_object(*conn, keys::session(cs["id"]));
  if (!now) {
    return write_error(res, unavailable("Reading checkout sessions"));
  }
  write_json(res, render::checkout_session(*now).dump());
}

} // namespace

void add_checkout_routes(httplib::Server& srv, api_context& ctx) {
  // Idempotent by itself (one round trip), not through post_idempotent.
  srv.Post("/v1/checkout/sessions",
           [&ctx](const httplib::Request& req, httplib::Response& res) {
             run_expanding(ctx, expandable::checkout_session, req, res,
                           [&] { create_session(ctx, req, res); });
           });
  post_idempotent(srv, ctx, R"(/v1/checkout/sessions/([A-Za-z0-9_]+)/expire)",
                  expandable::checkout_session,
                  [&ctx](const httplib::Request& req, httplib::Response& res) {
                    expire_session(ctx, req, res);
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
