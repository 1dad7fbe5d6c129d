#include "adapters/http/expansion.hpp"
#include "adapters/http/idempotency.hpp"
#include "adapters/http/list_pagination.hpp"
#include "adapters/http/object_ids.hpp"
#include "adapters/http/payment_methods.hpp"
#include "adapters/http/payment_submission.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/http/routes.hpp"

#include "actors/clock.hpp"
#include "actors/currency.hpp"
#include "actors/payment_logic.hpp"
#include "adapters/crash_point.hpp"
#include "adapters/redis/job_codec.hpp"
#include "adapters/redis/archive_store.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/scripts.hpp"

#include <httplib.h>

namespace psp::http {

namespace {

using json = nlohmann::json;

std::string field(const render::fields& f, const std::string& key) {
  auto i = f.find(key);
  return i == f.end() ? std::string{} : i->second;
}

/// The merchant's own intent, or the error to answer with.
std::variant<render::fields, api_error>
owned_intent(api_context& ctx, const merchant_info& merchant,
             const std::string& id) {
  return read_owned(ctx, merchant, keys::intent(id), "payment_intent", id,
                    "payment intents");
}

/// Whether op `op_id` (a capture or void) was recorded, live or archived:
/// an earlier run of the same keyed request queued it.
bool op_recorded(api_context& ctx, const std::string& op_id) {
  auto conn = ctx.redis.acquire();
  auto kind = redis::query_fields(*conn, {{"HGET", keys::attempt(op_id),
                                           "kind"}});
  return kind && kind->size() == 1 && !(*kind)[0].is_nil();
}

/// Writes `e`; a payment_intent_unexpected_state error carries the intent as
/// it stands (`error.payment_intent`), as Stripe's does, so a client can act
/// on its status.
void write_intent_error(api_context& ctx, httplib::Response& res, api_error e,
                        const std::string& intent_id) {
  if (e.code == "payment_intent_unexpected_state"
      && e.payment_intent_json.empty()) {
    if (auto now = read_intent(ctx, intent_id); now && !now->empty()) {
      e.payment_intent_json = render::payment_intent(*now).dump();
    }
  }
  write_error(res, e);
}

void create_intent(api_context& ctx, const httplib::Request& req,
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
  auto [year, month] = utc_year_month();
  auto parsed = parse_payment_intent_request(std::get<json>(body), year,
                                             month);
  if (auto* err = std::get_if<api_error>(&parsed)) {
    return write_error(
      res, explain_spent_card(ctx, merchant, std::get<json>(body), *err));
  }
  auto& in = std::get<payment_intent_request>(parsed);
  auto pi_id = object_id("pi_");
  auto now = std::to_string(unix_now_s());
  bool chosen = in.payment_method.has_value();
  pause_point("before_intent_write");
  // Written only when new: an intent that exists already (maybe archived)
  // was written by an earlier run of this Idempotency-Key request, which
  // may have moved it on since (paid it); continue with that intent.
  std::vector<std::string> args{
    std::to_string(unix_now_ms()), pi_id, "id", pi_id, "merchant",
    merchant.id, "amount", std::to_string(in.amount_minor), "currency",
    in.currency, "status",
    chosen ? "requires_confirmation" : "requires_payment_method",
    "capture_method", in.capture_method, "created", now, "metadata",
    in.metadata_json, "description", in.description, "receipt_email",
    in.receipt_email, "payment_method",
    chosen ? in.payment_method->payment_method_id : "", "fee_bps",
    std::to_string(merchant.fee_bps), "fee_fixed_minor",
    std::to_string(merchant.fee_fixed_minor)};
  if (!in.automatic_payment_methods.empty()) {
    // Kept only when asked for: most intents never carry the field.
    args.insert(args.end(), {"automatic_payment_methods",
                             in.automatic_payment_methods});
  }
  auto conn = ctx.redis.acquire();
  auto out = redis::eval(
    *conn, redis::create_intent_script(),
    {keys::intent(pi_id), keys::merchant_intents(merchant.id)}, args);
  conn.reset();
  if (!out || out->is_error()) {
    return write_error(res, unavailable("Creating payment intents"));
  }
  if (!in.confirm) {
    auto pi = read_intent(ctx, pi_id);
    if (!pi) {
      return write_error(res, unavailable("Reading payment intents"));
    }
    return write_json(res, render::payment_intent(*pi).dump());
  }
  auto pi = read_intent(ctx, pi_id);
  if (!pi || pi->empty()) {
    return write_error(res, unavailable("Reading payment intents"));
  }
  auto attempt = submit_attempt(ctx, *pi, *in.payment_method);
  if (auto* err = std::get_if<api_error>(&attempt)) {
    return write_intent_error(ctx, res, *err, pi_id);
  }
  auto& attempt_id = std::get<std::string>(attempt);
  await_op(ctx, attempt_id, ctx.settings.confirm_wait_ms);
  answer_confirmed(ctx, pi_id, attempt_id, res);
}

void confirm_intent(api_context& ctx, const httplib::Request& req,
                    httplib::Response& res) {
  auto form = authenticated_form(ctx, req, res,
                                 {"payment_method", "payment_method_data",
                                  "return_url", "receipt_email", "expand"});
  if (!form) {
    return;
  }
  auto& params = form->params;
  auto email = receipt_email_param(params);
  if (auto* err = std::get_if<api_error>(&email)) {
    return write_error(res, *err);
  }
  auto owned = owned_intent(ctx, form->merchant, req.matches[1]);
  if (auto* err = std::get_if<api_error>(&owned)) {
    return write_error(res, *err);
  }
  auto& pi = std::get<render::fields>(owned);
  auto [year, month] = utc_year_month();
  auto pm = parse_payment_method(params, year, month);
  if (auto* err = std::get_if<api_error>(&pm)) {
    return write_error(res,
                       explain_spent_card(ctx, form->merchant, params, *err));
  }
  auto& choice = std::get<0>(pm);
  if (!choice) {
    // Confirming with the payment method given at creation.
    if (auto card = test_payment_method(field(pi, "payment_method"), year)) {
      choice = payment_method_choice{field(pi, "payment_method"), *card, ""};
    } else {
      auto e = unexpected_state("confirm", field(pi, "status"));
      e.message = "You cannot confirm this PaymentIntent because it's "
                  "missing a payment method.";
      e.param = "payment_method";
      return write_intent_error(ctx, res, e, field(pi, "id"));
    }
  }
  auto attempt = submit_attempt(ctx, pi, *choice,
                                std::get<std::string>(email));
  if (auto* err = std::get_if<api_error>(&attempt)) {
    return write_intent_error(ctx, res, *err, field(pi, "id"));
  }
  auto& attempt_id = std::get<std::string>(attempt);
  await_op(ctx, attempt_id, ctx.settings.confirm_wait_ms);
  answer_confirmed(ctx, req.matches[1], attempt_id, res);
}

/// Queues a capture, void or refund through the request_op step.
struct op_request {
  payment_op op = payment_op::capture;
  int64_t amount_minor = 0;
  std::string cancellation_reason;
  std::string metadata_update = "{}"; ///< metadata_param(…, update)
};

void capture_or_void(api_context& ctx, const httplib::Request& req,
                     httplib::Response& res, const merchant_info& merchant,
                     render::fields& pi, const op_request& want) {
  payment_job job;
  job.intent_id = field(pi, "id");
  job.attempt_id = object_id(want.op == payment_op::capture ? "cap_" : "void_");
  job.merchant_id = merchant.id;
  job.amount_minor = want.amount_minor;
  job.currency = field(pi, "currency");
  job.fee_bps = static_cast<int32_t>(parse_count(field(pi, "fee_bps"))
                                       .value_or(0));
  job.fee_fixed_minor = parse_count(field(pi, "fee_fixed_minor")).value_or(0);
  job.op = want.op;
  job.network_ref = field(pi, "latest_charge");
  job.held_minor = parse_count(field(pi, "amount_capturable")).value_or(0);
  auto conn = ctx.redis.acquire();
  auto out = redis::eval(
    *conn, redis::request_op_script(),
    {keys::intent(job.intent_id), keys::attempt(job.attempt_id),
     keys::payment_stream_for(job.intent_id), keys::refund(""),
     keys::deliveries_due},
    {to_string(job.op), job.attempt_id, std::to_string(job.amount_minor),
     redis::encode_job(job), std::to_string(unix_now_s()),
     std::to_string(unix_now_ms()), merchant.id, "", want.metadata_update, "",
     want.cancellation_reason});
  conn.reset();
  if (!out || out->is_error() || !out->is_array() || out->elements.empty()) {
    return write_error(res, unavailable("Updating payment intents"));
  }
  auto verdict = out->elements[0].text();
  auto detail = out->elements.size() > 1 ? out->elements[1].text() : "";
  // "requested": an earlier run of this request recorded the op (the step
  // checks that before the intent's status, live or archived).
  bool rerun = verdict == "requested";
  if (verdict != "ok" && !rerun) {
    auto what = want.op == payment_op::capture ? "capture" : "cancel";
    if (verdict == "state") {
      return write_intent_error(ctx, res, unexpected_state(what, detail),
                                job.intent_id);
    }
    if (verdict == "busy") {
      // Stripe answers a lock timeout with 429, which its client libraries
      // retry on the Stripe-Should-Retry header write_error adds.
      auto e = unexpected_state(what, "requires_capture");
      e.status = 429;
      e.code = "lock_timeout";
      e.message = "Another capture or cancel of this PaymentIntent is in "
                  "progress; retry shortly.";
      return write_error(res, e);
    }
    if (verdict == "metadata") {
      return write_error(res, invalid_param("metadata", "Metadata can have "
                                                        "at most 50 keys."));
    }
    if (verdict == "too_large") {
      auto e = invalid_param("amount_to_capture",
                             "amount_to_capture is greater than the amount "
                             "capturable (" + detail + ").");
      e.code = "amount_too_large";
      return write_error(res, e);
    }
    return write_error(res, not_found("payment_intent", job.intent_id));
  }
  if (!await_op(ctx, job.attempt_id, ctx.settings.confirm_wait_ms)) {
    // A capture or cancel at Stripe answers its outcome; ours is not known
    // yet. A retry with the key must get it, not this snapshot.
    mark_answer(answer_kind::pending);
    auto now = read_intent(ctx, job.intent_id);
    return write_json(res, render::payment_intent(now ? *now : pi).dump());
  }
  auto conn3 = ctx.redis.acquire();
  // Finished, the op may be archived already (decision 38).
  auto op = redis::read_object(*conn3, keys::attempt(job.attempt_id));
  conn3.reset();
  auto rec = op ? std::move(*op) : render::fields{};
  if (field(rec, "status") == "failed") {
    // Not a card error: the card was charged or held already; the request
    // cannot be carried out on this PaymentIntent (any more). It ran, so a
    // retry with the key replays this answer.
    mark_answer(answer_kind::executed);
    auto refused = field(rec, "decline_code");
    api_error e;
    e.status = 400;
    e.type = "invalid_request_error";
    e.code = authorization_gone(refused)
               ? "charge_expired_for_capture"
             : refused == "charge_already_captured" || refused == "amount_too_large"
               ? refused
               : "payment_intent_unexpected_state";
    e.message = "The card network refused the "
                + std::string{want.op == payment_op::capture ? "capture"
                                                             : "cancel"}
                + ": " + field(rec, "error_message");
    auto now = read_intent(ctx, job.intent_id);
    e.payment_intent_json = render::payment_intent(now ? *now : pi).dump();
    return write_error(res, e);
  }
  auto now = read_intent(ctx, job.intent_id);
  if (!now) {
    return write_error(res, unavailable("Reading payment intents"));
  }
  write_json(res, render::payment_intent(*now).dump());
}

/// Under an Idempotency-Key: whether an earlier run of this very request
/// already queued its capture or void (`prefix`), and lost its answer to a
/// crash. The intent has moved on since, so its status alone would refuse
/// the retry; the retry answers what that step did instead.
bool earlier_run_queued(api_context& ctx, const std::string& prefix) {
  if (!ids_are_derived()) {
    return false;
  }
  return op_recorded(ctx, object_id(prefix));
}

void capture_intent(api_context& ctx, const httplib::Request& req,
                    httplib::Response& res) {
  auto form = authenticated_form(ctx, req, res,
                                 {"amount_to_capture", "metadata", "expand"});
  if (!form) {
    return;
  }
  auto& params = form->params;
  auto& merchant = form->merchant;
  auto owned = owned_intent(ctx, merchant, req.matches[1]);
  if (auto* err = std::get_if<api_error>(&owned)) {
    return write_error(res, *err);
  }
  auto& pi = std::get<render::fields>(owned);
  op_request want;
  want.amount_minor = parse_count(field(pi, "amount_capturable")).value_or(0);
  if (params.contains("amount_to_capture")) {
    auto text = string_param(params, "amount_to_capture", "amount_to_capture");
    if (auto* err = std::get_if<api_error>(&text)) {
      return write_error(res, *err);
    }
    auto amount = parse_count(std::get<std::string>(text));
    if (!amount || *amount == 0) {
      return write_error(res, invalid_integer("amount_to_capture",
                                              "Invalid integer: "
                                              "amount_to_capture must be a "
                                              "positive integer."));
    }
    if (*amount < charge_amount_minor_min) {
      // What is captured is what is charged: the same minimum (Stripe's
      // too), or a fixed fee could take all of it.
      auto e = invalid_param("amount_to_capture",
                             "amount_to_capture must be at least 50 in the "
                             "currency's minor unit.");
      e.code = "amount_too_small";
      return write_error(res, e);
    }
    want.amount_minor = *amount;
  }
  auto metadata = metadata_param(params, metadata_use::update);
  if (auto* err = std::get_if<api_error>(&metadata)) {
    return write_error(res, *err);
  }
  want.metadata_update = std::get<std::string>(metadata);
  if (field(pi, "status") != "requires_capture"
      && !earlier_run_queued(ctx, "cap_")) {
    return write_intent_error(ctx, res,
                              unexpected_state("capture", field(pi, "status")),
                              field(pi, "id"));
  }
  capture_or_void(ctx, req, res, merchant, pi, want);
}

void cancel_intent(api_context& ctx, const httplib::Request& req,
                   httplib::Response& res) {
  auto form = authenticated_form(ctx, req, res,
                                 {"cancellation_reason", "expand"});
  if (!form) {
    return;
  }
  auto& params = form->params;
  auto reason = string_param(params, "cancellation_reason",
                             "cancellation_reason");
  if (auto* err = std::get_if<api_error>(&reason)) {
    return write_error(res, *err);
  }
  auto& why = std::get<std::string>(reason);
  if (!why.empty() && why != "duplicate" && why != "fraudulent"
      && why != "requested_by_customer" && why != "abandoned") {
    return write_error(res, invalid_param("cancellation_reason",
                                          "Invalid cancellation_reason: must "
                                          "be one of duplicate, fraudulent, "
                                          "requested_by_customer or "
                                          "abandoned."));
  }
  auto& merchant = form->merchant;
  auto owned = owned_intent(ctx, merchant, req.matches[1]);
  if (auto* err = std::get_if<api_error>(&owned)) {
    return write_error(res, *err);
  }
  auto& pi = std::get<render::fields>(owned);
  if (field(pi, "status") == "requires_capture"
      || earlier_run_queued(ctx, "void_")) {
    // Funds are held at the network: releasing them is a network step.
    op_request want;
    want.op = payment_op::void_auth;
    want.cancellation_reason = why;
    return capture_or_void(ctx, req, res, merchant, pi, want);
  }
  auto id = field(pi, "id");
  auto conn = ctx.redis.acquire();
  auto out = redis::eval(
    *conn, redis::cancel_intent_script(),
    {keys::intent(id), keys::deliveries_due},
    {std::to_string(unix_now_s()), std::to_string(unix_now_ms()), why,
     event_id_for(id, "X"), merchant.id,
     ctx.settings.archive_canceled ? "1" : "0"});
  conn.reset();
  if (!out || out->is_error() || !out->is_array() || out->elements.empty()) {
    return write_error(res, unavailable("Canceling payment intents"));
  }
  auto verdict = out->elements[0].text();
  if (verdict == "session") {
    return write_error(res,
                       session_owned_intent("expire the session instead."));
  }
  if (verdict == "state") {
    return write_intent_error(
      ctx, res, unexpected_state("cancel", out->elements[1].text()), id);
  }
  auto now = read_intent(ctx, id);
  if (!now) {
    return write_error(res, unavailable("Reading payment intents"));
  }
  write_json(res, render::payment_intent(*now).dump());
}

void retrieve_intent(api_context& ctx, const httplib::Request& req,
                     httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  auto owned = owned_intent(ctx, std::get<merchant_info>(who), req.matches[1]);
  if (auto* err = std::get_if<api_error>(&owned)) {
    return write_error(res, *err);
  }
  auto& pi = std::get<render::fields>(owned);
  write_expanded(ctx, req, res, expandable::payment_intent, pi,
                 render::payment_intent(pi));
}

void list_intents(api_context& ctx, const httplib::Request& req,
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
  list_source src{keys::merchant_intents(merchant.id), "payment_intent", 1000,
                  0};
  auto page = collect_page(*conn, src, std::get<list_query>(query));
  if (auto* err = std::get_if<api_error>(&page)) {
    return write_error(res, *err);
  }
  auto& p = std::get<list_page>(page);
  auto data = render_rows(*conn, p.ids, keys::intent,
                          [](const std::string&, render::fields& f) {
                            return render::payment_intent(f);
                          });
  if (!data) {
    return write_error(res, unavailable("Listing payment intents"));
  }
  write_json(res,
             list_body(std::move(*data), p.has_more, "/v1/payment_intents")
               .dump());
}

} // namespace

void add_payment_intent_routes(httplib::Server& srv, api_context& ctx) {
  const std::string id = "([A-Za-z0-9_]+)";
  post_idempotent(srv, ctx, "/v1/payment_intents", expandable::payment_intent,
                  [&ctx](const httplib::Request& req, httplib::Response& res) {
                    create_intent(ctx, req, res);
                  });
  post_idempotent(srv, ctx, "/v1/payment_intents/" + id + "/confirm", expandable::payment_intent,
                  [&ctx](const httplib::Request& req, httplib::Response& res) {
                    confirm_intent(ctx, req, res);
                  });
  post_idempotent(srv, ctx, "/v1/payment_intents/" + id + "/capture", expandable::payment_intent,
                  [&ctx](const httplib::Request& req, httplib::Response& res) {
                    capture_intent(ctx, req, res);
                  });
  post_idempotent(srv, ctx, "/v1/payment_intents/" + id + "/cancel", expandable::payment_intent,
                  [&ctx](const httplib::Request& req, httplib::Response& res) {
                    cancel_intent(ctx, req, res);
                  });
  srv.Get("/v1/payment_intents",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            list_intents(ctx, req, res);
          });
  srv.Get("/v1/payment_intents/" + id,
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            retrieve_intent(ctx, req, res);
          });
}

} // namespace psp::http
