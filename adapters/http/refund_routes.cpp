#include "adapters/http/expansion.hpp"
#include "adapters/http/idempotency.hpp"
#include "adapters/http/list_pagination.hpp"
#include "adapters/http/object_ids.hpp"
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

struct refund_params {
  std::string intent_id;
  std::string charge_id;
  std::optional<int64_t> amount_minor; ///< nullopt: everything refundable
  std::string reason;
  std::string metadata_json = "{}";
};

/// Checks the values (the caller rejected unknown parameters).
std::variant<refund_params, api_error> parse_refund(const json& params) {
  refund_params out;
  for (auto [key, dst] : {std::pair{"payment_intent", &out.intent_id},
                          std::pair{"charge", &out.charge_id},
                          std::pair{"reason", &out.reason}}) {
    auto v = string_param(params, key, key);
    if (auto* err = std::get_if<api_error>(&v)) {
      return *err;
    }
    *dst = std::get<std::string>(v);
  }
  if (out.intent_id.empty() && out.charge_id.empty()) {
    return missing_param("payment_intent");
  }
  if (!out.reason.empty() && out.reason != "duplicate"
      && out.reason != "fraudulent" && out.reason != "requested_by_customer") {
    return invalid_param("reason", "Invalid reason: must be one of "
                                   "duplicate, fraudulent or "
                                   "requested_by_customer.");
  }
  if (params.contains("amount")) {
    auto text = string_param(params, "amount", "amount");
    if (auto* err = std::get_if<api_error>(&text)) {
      return *err;
    }
    auto amount = parse_count(std::get<std::string>(text));
    if (!amount || *amount == 0) {
      return invalid_integer("amount", "Invalid integer: amount must be a "
                                       "positive integer in the currency's "
                                       "minor unit.");
    }
    if (*amount > 99'999'999) {
      return amount_too_large("amount", "Amount must be at most 99999999 in "
                                        "the currency's minor unit.");
    }
    out.amount_minor = *amount;
  }
  auto md = metadata_param(params);
  if (auto* err = std::get_if<api_error>(&md)) {
    return *err;
  }
  out.metadata_json = std::get<std::string>(md);
  return out;
}

/// An object a refund's parameter names that does not exist (or is another
/// merchant's): 400, as Stripe answers a missing object named in the body
/// (404 is for the object of the URL).
api_error missing_reference(const std::string& what, const std::string& id,
                            const std::string& param) {
  auto e = not_found(what, id);
  e.status = 400;
  e.param = param;
  return e;
}

/// The intent a refund names: directly, or through its charge id (looked up
/// in the charge index the commit step keeps).
std::variant<render::fields, api_error>
refunded_intent(api_context& ctx, const merchant_info& merchant,
                const refund_params& p) {
  auto id = p.intent_id;
  if (id.empty()) {
    auto conn = ctx.redis.acquire();
    auto found = redis::query_fields(
      *conn, {{"HGET", "charge:" + p.charge_id, "intent"}}); // maybe archived
    if (!found) {
      return unavailable("Creating refunds");
    }
    auto& intent = found->front();
    if (intent.is_nil()) {
      return missing_reference("charge", p.charge_id, "charge");
    }
    id = intent.text();
  }
  auto pi = read_intent(ctx, id);
  if (!pi) {
    return unavailable("Creating refunds");
  }
  if (pi->empty() || field(*pi, "merchant") != merchant.id) {
    // Named by its charge: answer about the charge, so another merchant's
    // charge id tells nothing about the intent behind it.
    return p.intent_id.empty()
             ? missing_reference("charge", p.charge_id, "charge")
             : missing_reference("payment_intent", id, "payment_intent");
  }
  if (!p.charge_id.empty() && field(*pi, "latest_charge") != p.charge_id) {
    // Says which intent it was looked for on, and nothing about where the
    // charge is (it may be another merchant's).
    auto e = missing_reference("charge", p.charge_id, "charge");
    e.message += " on PaymentIntent '" + id + "'";
    return e;
  }
  return std::move(*pi);
}

void answer_refund(api_context& ctx, const std::string& id,
                   httplib::Response& res) {
  auto conn = ctx.redis.acquire();
  auto f = redis::read_object(*conn, keys::refund(id)); // maybe archived
  if (!f || f->empty()) {
    return write_error(res, unavailable("Reading refunds"));
  }
  write_json(res, render::refund(*f).dump());
}

void create_refund(api_context& ctx, const httplib::Request& req,
                   httplib::Response& res) {
  auto form = authenticated_form(ctx, req, res,
                                 {"payment_intent", "charge", "amount",
                                  "reason", "metadata", "expand"});
  if (!form) {
    return;
  }
  auto& merchant = form->merchant;
  auto parsed = parse_refund(form->params);
  if (auto* err = std::get_if<api_error>(&parsed)) {
    return write_error(res, *err);
  }
  auto& p = std::get<refund_params>(parsed);
  auto loaded = refunded_intent(ctx, merchant, p);
  if (auto* err = std::get_if<api_error>(&loaded)) {
    return write_error(res, *err);
  }
  auto& pi = std::get<render::fields>(loaded);
  auto re_id = object_id("re_");
  {
    // A re-run after a lost answer: the refund exists (maybe archived by
    // now); answer with it.
    auto conn = ctx.redis.acquire();
    auto existing = redis::read_object(*conn, keys::refund(re_id));
    if (!existing) {
      return write_error(res, unavailable("Creating refunds"));
    }
    if (!existing->empty()) {
      conn.reset();
      await_op(ctx, re_id, ctx.settings.confirm_wait_ms);
      return answer_refund(ctx, re_id, res);
    }
  }
  auto refundable = parse_count(field(pi, "amount_received")).value_or(0)
                    - parse_count(field(pi, "amount_refunded")).value_or(0)
                    - parse_count(field(pi, "refund_pending")).value_or(0);
  payment_job job;
  job.intent_id = field(pi, "id");
  job.attempt_id = re_id;
  job.merchant_id = merchant.id;
  job.amount_minor = p.amount_minor.value_or(std::max<int64_t>(refundable, 0));
  job.currency = field(pi, "currency");
  job.op = payment_op::refund;
  job.network_ref = field(pi, "latest_charge");
  auto reserve = [&] {
    auto conn = ctx.redis.acquire();
    return redis::eval(
      *conn, redis::request_op_script(),
      {keys::intent(job.intent_id), keys::attempt(re_id),
       keys::payment_stream_for(job.intent_id),
       keys::refund(re_id), keys::deliveries_due},
      {"refund", re_id, std::to_string(job.amount_minor),
       redis::encode_job(job), std::to_string(unix_now_s()),
       std::to_string(unix_now_ms()), merchant.id, p.reason, p.metadata_json,
       event_id_for(re_id, "N"), "", job.network_ref});
  };
  pause_point("before_refund_reserve");
  auto out = reserve();
  // The job is built from a read before the step. When the intent moved on
  // meanwhile (a confirm or capture committed: the read had no charge and
  // nothing received), the step answers `stale` with what is current, and
  // the job is built again from that: sent as it was, it would name no
  // charge at the network (a refund failed for nothing) or refund 0.
  // Without an amount the refund is "the rest": a refund reserved meanwhile
  // (another request) makes it too large, so ask again for what is left
  // then, as the caller never named an amount.
  for (int again = 0; again < 3 && out && !out->is_error() && out->is_array()
                      && out->elements.size() > 1;
       ++again) {
    auto verdict = out->elements[0].text();
    auto left = parse_count(out->elements[1].text()).value_or(0);
    if (verdict == "stale" && out->elements.size() > 2) {
      job.network_ref = out->elements[2].text();
      if (!p.amount_minor) {
        job.amount_minor = left;
      }
    } else if (verdict == "too_large" && !p.amount_minor) {
      job.amount_minor = left;
    } else {
      break;
    }
    out = reserve();
  }
  if (!out || out->is_error() || !out->is_array() || out->elements.empty()) {
    return write_error(res, unavailable("Creating refunds"));
  }
  auto verdict = out->elements[0].text();
  if (verdict == "state") {
    auto status = out->elements[1].text();
    api_error e;
    e.message = "This PaymentIntent has no captured funds to refund (status "
                + status + ").";
    e.code = status == "requires_capture" ? "charge_not_captured"
                                          : "payment_intent_unexpected_state";
    e.param = p.intent_id.empty() ? "charge" : "payment_intent"; // as named
    if (e.code == "payment_intent_unexpected_state") {
      // As every other answer with this code: the intent as it stands.
      e.payment_intent_json = render::payment_intent(pi).dump();
    }
    return write_error(res, e);
  }
  if (verdict == "refunded") {
    api_error e;
    auto pending = out->elements.size() > 1
                     ? parse_count(out->elements[1].text()).value_or(0)
                     : 0;
    e.message = "Charge " + field(pi, "latest_charge")
                + (pending > 0 ? " is being refunded in full: what is left "
                                 "is reserved by refunds still pending."
                               : " has already been refunded.");
    e.code = "charge_already_refunded";
    return write_error(res, e);
  }
  if (verdict == "too_large") {
    auto e = invalid_param("amount",
                           "Refund amount (" + format_amount(job.amount_minor,
                                                             job.currency)
                             + ") is greater than the amount left to refund ("
                             + format_amount(parse_count(out->elements[1]
                                                           .text())
                                               .value_or(0),
                                             job.currency)
                             + ").");
    e.code = "amount_too_large";
    return write_error(res, e);
  }
  // "requested": an earlier run of this request reserved the refund (one
  // that stalled between its read above and this step, or the other way
  // round); answer that refund.
  if (verdict == "stale") {
    // The intent changed under each of the tries: nothing was reserved.
    return write_error(res, unavailable("Creating refunds"));
  }
  if (verdict != "ok" && verdict != "requested") {
    return write_error(res, not_found("payment_intent", job.intent_id));
  }
  await_op(ctx, re_id, ctx.settings.confirm_wait_ms);
  answer_refund(ctx, re_id, res);
}

void retrieve_refund(api_context& ctx, const httplib::Request& req,
                     httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  std::string id = req.matches[1];
  auto f = read_owned(ctx, std::get<merchant_info>(who), keys::refund(id),
                      "refund", id, "refunds");
  if (auto* err = std::get_if<api_error>(&f)) {
    return write_error(res, *err);
  }
  auto& re = std::get<render::fields>(f);
  write_expanded(ctx, req, res, expandable::refund, re, render::refund(re));
}

void list_refunds(api_context& ctx, const httplib::Request& req,
                  httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  auto& merchant = std::get<merchant_info>(who);
  auto query = parse_list_query(req, {"payment_intent", "charge"});
  if (auto* err = std::get_if<api_error>(&query)) {
    return write_error(res, *err);
  }
  auto& q = std::get<list_query>(query);
  auto want_pi = req.get_param_value("payment_intent");
  auto want_charge = req.get_param_value("charge");
  id_filter filter;
  // The created filter is checked here too: scores are ms with a slack of a
  // second (list_source below).
  if (!want_pi.empty() || !want_charge.empty() || q.filters_created()) {
    filter = [want_pi, want_charge, q](redis::connection& c,
                                       const std::vector<std::string>& ids)
      -> std::optional<std::vector<bool>> {
      std::vector<std::vector<std::string>> reads;
      for (auto& id : ids) {
        reads.push_back({"HMGET", keys::refund(id), "payment_intent",
                         "charge", "created"});
      }
      auto rows = redis::query_fields(c, reads); // archived ones too
      if (!rows) {
        return std::nullopt;
      }
      std::vector<bool> keep;
      for (auto& row : *rows) {
        bool ok = row.is_array() && row.elements.size() == 3;
        if (ok && !want_pi.empty()) {
          ok = row.elements[0].text() == want_pi;
        }
        if (ok && !want_charge.empty()) {
          ok = row.elements[1].text() == want_charge;
        }
        if (ok) {
          auto created = parse_count(row.elements[2].text()).value_or(0);
          ok = created >= q.created_min_s && created <= q.created_max_s;
        }
        keep.push_back(ok);
      }
      return keep;
    };
  }
  auto conn = ctx.redis.acquire();
  list_source src{keys::merchant_refunds(merchant.id), "refund", 1000, 1000};
  auto page = collect_page(*conn, src, q, filter);
  if (auto* err = std::get_if<api_error>(&page)) {
    return write_error(res, *err);
  }
  auto& pg = std::get<list_page>(page);
  auto data = render_rows(*conn, pg.ids, keys::refund,
                          [](const std::string&, render::fields& f) {
                            return render::refund(f);
                          });
  if (!data) {
    return write_error(res, unavailable("Listing refunds"));
  }
  write_json(res,
             list_body(std::move(*data), pg.has_more, "/v1/refunds").dump());
}

} // namespace

void add_refund_routes(httplib::Server& srv, api_context& ctx) {
  post_idempotent(srv, ctx, "/v1/refunds", expandable::refund,
                  [&ctx](const httplib::Request& req, httplib::Response& res) {
                    create_refund(ctx, req, res);
                  });
  srv.Get("/v1/refunds",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            list_refunds(ctx, req, res);
          });
  srv.Get(R"(/v1/refunds/([A-Za-z0-9_]+))",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            retrieve_refund(ctx, req, res);
          });
}

} // namespace psp::http
