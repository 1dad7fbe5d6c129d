#include "adapters/http/billing_details.hpp"
#include "adapters/http/form_origin.hpp"
#include "adapters/http/hosted_page_html.hpp"
#include "adapters/http/object_ids.hpp"
#include "adapters/http/page_policy.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/http/routes.hpp"

#include "actors/clock.hpp"
#include "adapters/card_network/card_network_client.hpp"
#include "adapters/codec/card_check.hpp"
#include "adapters/crash_point.hpp"
#include "adapters/codec/form_decode.hpp"
#include "adapters/crypto/random_id.hpp"
#include "adapters/redis/job_codec.hpp"
#include "adapters/redis/archive_store.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/scripts.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>

namespace psp::http {

namespace {

using json = nlohmann::json;

struct session_view {
  render::fields cs;
  render::fields pi;
};

/// The session and its intent; nullopt fields mean "not found".
std::variant<session_view, int> load_view(api_context& ctx,
                                          const std::string& id) {
  auto conn = ctx.redis.acquire();
  auto out = redis::eval(*conn, redis::load_session_view_script(),
                         {keys::session(id)}, {});
  if (!out || out->is_error() || !out->is_array()
      || out->elements.size() != 2) {
    return 503;
  }
  session_view v;
  v.cs = to_fields(out->elements[0]);
  v.pi = to_fields(out->elements[1]);
  if (v.cs.empty()) {
    // A paid session archived by now (decision 38): read, not restored.
    auto cs = redis::read_object(*conn, keys::session(id));
    if (!cs) {
      return 503;
    }
    if (cs->empty()) {
      return 404;
    }
    v.cs = std::move(*cs);
    auto pi = redis::read_object(*conn, keys::intent(v.cs["intent"]));
    if (!pi) {
      return 503;
    }
    v.pi = std::move(*pi);
  }
  // The shopper is told at once that the session is over (the confirm
  // step refuses it already), unless a payment made before expires_at is
  // still deciding it; the sweep stores the expiry a moment later.
  if (v.cs["status"] == "open" && v.pi["status"] != "processing") {
    auto expires = parse_count(v.cs["expires_at"]);
    if (expires && *expires <= unix_now_s()) {
      v.cs["status"] = "expired";
    }
  }
  return v;
}

void html(httplib::Response& res, const std::string& body, int status = 200) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  // The page takes card numbers: no other site may frame it (clickjacking).
  res.set_header("X-Frame-Options", "DENY");
  // Only this page's own inline script and style run (by their hashes),
  // nothing loads from elsewhere, and the session's address is not sent
  // to other sites.
  res.set_header("Content-Security-Policy", page_security_policy(body));
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_content(body, "text/html; charset=utf-8");
}

void redirect(httplib::Response& res, const std::string& to) {
  // A merchant's URL may hold UTF-8 (an IRI: `https://shop.example/é`);
  // a header is ASCII (RFC 9110 5.5), so those bytes go percent-encoded,
  // as a browser would send them.
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string location;
  location.reserve(to.size());
  for (unsigned char c : to) {
    if (c < 0x80) {
      location += static_cast<char>(c);
    } else {
      location += {'%', hex[c >> 4], hex[c & 0xf]};
    }
  }
  res.status = 303;
  res.set_header("Location", location);
}

/// Cards one checkout session may try on the page. Stripe Checkout blocks
/// a session after repeated declines too: without a cap, one session let
/// a card tester try 40 numbers (the shopper audit). Ten is far above what
/// a shopper mistypes.
constexpr int page_attempts_max = 10;

void too_many_attempts_page(const std::string& cancel_url,
                            httplib::Response& res) {
  html(res,
       message_page("Too many attempts",
                    "This checkout has tried too many cards. Please start "
                    "again from the store.",
                    cancel_url, "Return to the store"),
       429);
}

/// The network holds an attempt for the checkout that Redis lost (decision
/// 70), perhaps paid: a card taken now, under the next attempt's key, could
/// be a second payment. (Answered after a paid or expired session.)
bool page_closed(const session_view& v) {
  auto closed = v.pi.find("page_closed");
  return closed != v.pi.end() && !closed->second.empty();
}

constexpr const char* page_closed_text =
  "This checkout cannot take a card any more: the card network already "
  "holds an earlier payment attempt for it, which may have been paid. "
  "Please contact the store before paying again.";
/// The same after the attempt's own error, which names the network's payment.
constexpr const char* page_closed_after_error =
  "This checkout cannot take a card any more. Please contact the store "
  "before paying again.";

/// Answers for a session that cannot take a card; false when it can.
bool answered_closed(const session_view& v, httplib::Response& res) {
  auto& cs = v.cs;
  if (cs.at("status") == "complete") {
    // A manual-capture session completes on the authorisation: the money is
    // held, not taken, and the store may still release it (the audit of
    // the page: "paid" for both).
    auto it = v.pi.find("status");
    auto intent = it == v.pi.end() ? std::string{} : it->second;
    if (intent == "requires_capture") {
      html(res, message_page("Payment authorised",
                             "Your card was authorised; the store charges it "
                             "when it confirms your order.",
                             success_redirect(cs), "Return to the store"));
    } else if (intent == "canceled") {
      html(res, message_page("Authorisation released",
                             "The store released the authorisation on your "
                             "card; nothing was charged.",
                             success_redirect(cs), "Return to the store"));
    } else {
      html(res, message_page("Already paid", "This checkout has been paid.",
                             success_redirect(cs), "Return to the store"));
    }
    return true;
  }
  if (cs.at("status") == "expired") {
    auto cancel = cs.count("cancel_url") ? cs.at("cancel_url") : "";
    html(res, message_page("Checkout expired",
                           "This checkout has expired. Please start again "
                           "from the store.",
                           cancel, "Return to the store"),
         410);
    return true;
  }
  if (page_closed(v)) {
    auto cancel = cs.count("cancel_url") ? cs.at("cancel_url") : "";
    html(res, message_page("Payment not completed", page_closed_text, cancel,
                           "Return to the store"),
         409);
    return true;
  }
  // Its last card declined and no card left to try: the form would only
  // refuse the next one on submit.
  auto it = v.pi.find("page_attempts");
  if (v.pi.count("status") && v.pi.at("status") == "requires_payment_method"
      && it != v.pi.end() && parse_count(it->second).value_or(0)
                               >= page_attempts_max) {
    too_many_attempts_page(cs.count("cancel_url") ? cs.at("cancel_url") : "",
                           res);
    return true;
  }
  return false;
}

void error_status_page(httplib::Response& res, int status) {
  if (status == 404) {
    html(res, message_page("Checkout not found",
                           "There is no checkout at this address.", "", ""),
         404);
  } else {
    html(res, message_page("Temporarily unavailable",
                           "We cannot reach our payment records right now. "
                           "Please try again in a moment.",
                           "", ""),
         503);
  }
}

void show_form(api_context& ctx, const httplib::Request& req,
               httplib::Response& res) {
  auto loaded = load_view(ctx, req.matches[1]);
  if (auto* status = std::get_if<int>(&loaded)) {
    return error_status_page(res, *status);
  }
  auto& v = std::get<session_view>(loaded);
  if (answered_closed(v, res)) {
    return;
  }
  if (v.pi["status"] == "processing") {
    return redirect(res, "/pay/" + v.cs["id"] + "/status");
  }
  std::map<std::string, std::string> errors;
  if (!v.pi["last_error_message"].empty()) {
    errors["form"] = "Your last payment attempt failed: "
                     + v.pi["last_error_message"];
    // Said before the last tries, not only once they are gone.
    auto left = page_attempts_max
                - parse_count(v.pi["page_attempts"]).value_or(0);
    if (left > 0 && left <= 2) {
      errors["form"] += left == 1 ? " You can try one more card."
                                  : " You can try two more cards.";
    }
  }
  html(res, payment_form_page(v.cs, crypto::random_base62(22), errors, "", ""));
}

std::pair<int, int> current_year_month() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  return {utc.tm_year + 1900, utc.tm_mon + 1};
}

/// Answers a session that cannot take this card (closed, expired, missing)
/// from a fresh read: the rare path, so it may cost a round trip.
void answer_from_view(api_context& ctx, const std::string& session_id,
                      httplib::Response& res) {
  auto loaded = load_view(ctx, session_id);
  if (auto* status = std::get_if<int>(&loaded)) {
    return error_status_page(res, *status);
  }
  auto& v = std::get<session_view>(loaded);
  if (!answered_closed(v, res)) {
    // Open again by now (a lapsed attempt): the status page shows it.
    redirect(res, "/pay/" + session_id + "/status");
  }
}

/// The session's cancel_url, or "" (also when it cannot be read).
std::string cancel_url_of(api_context& ctx, const std::string& session_id) {
  auto loaded = load_view(ctx, session_id);
  auto* v = std::get_if<session_view>(&loaded);
  return v && v->cs.count("cancel_url") ? v->cs.at("cancel_url") : "";
}

/// Seals the card and, in one Lua step that reads the session and intent
/// itself, checks they are open, writes the attempt and queues the job.
void submit_payment(api_context& ctx, const std::string& session_id,
                    const codec::card_fields& card, const std::string& nonce,
                    const std::string& billing_json, httplib::Response& res) {
  payment_job step;
  step.attempt_id = crypto::new_id("pa_");
  step.sealed_card = ctx.vault.seal(
    card::card_plaintext(card.pan, card.exp_month, card.exp_year),
    step.attempt_id);
  auto conn = ctx.redis.acquire();
  auto out = redis::eval(
    *conn, redis::confirm_attempt_script(),
    {keys::session(session_id), keys::attempt(step.attempt_id)},
    {std::to_string(unix_now_s()), nonce, step.attempt_id,
     std::string{codec::to_string(card.brand)}, card.last4,
     redis::encode_job_step(step), card_payment_method_id(step.attempt_id),
     std::to_string(card.exp_month), std::to_string(card.exp_year),
     billing_json, std::to_string(page_attempts_max)});
  auto failure = out ? out->str : conn->last_error();
  conn.reset();
  if (!out || out->is_error() || !out->is_array() || out->elements.empty()) {
    spdlog::error("event=confirm_failed session={} error=\"{}\"", session_id,
                  failure);
    return error_status_page(res, 503);
  }
  crash_point("after_confirm");
  auto verdict = out->elements[0].text();
  if (verdict == "ok") {
    ++ctx.counters.payments_submitted;
    spdlog::info("event=payment_submitted session={} attempt={} brand={} "
                 "last4={}",
                 session_id, step.attempt_id, codec::to_string(card.brand),
                 card.last4);
  }
  if (verdict == "too_many") {
    spdlog::warn("event=payment_attempts_exhausted session={} tries={}",
                 session_id, page_attempts_max);
    return too_many_attempts_page(cancel_url_of(ctx, session_id), res);
  }
  if (verdict == "missing" || verdict == "expired" || verdict == "not_open") {
    return answer_from_view(ctx, session_id, res);
  }
  // ok, duplicate (same form submitted again), processing (another tab) and
  // paid all continue on the status page, which shows the one real outcome.
  redirect(res, "/pay/" + session_id + "/status");
}

/// A form that cannot be submitted: shown again with what to fix, unless
/// the session cannot take a payment any more.
void show_form_errors(api_context& ctx, const std::string& session_id,
                      const std::map<std::string, std::string>& errors,
                      const std::string& nonce, const std::string& name,
                      const std::string& exp, int status,
                      httplib::Response& res) {
  auto loaded = load_view(ctx, session_id);
  if (auto* failed = std::get_if<int>(&loaded)) {
    return error_status_page(res, *failed);
  }
  auto& v = std::get<session_view>(loaded);
  if (answered_closed(v, res)) {
    return;
  }
  html(res, payment_form_page(v.cs, nonce, errors, name, exp), status);
}

/// POST /pay/<cs>: the card is checked here, before Redis is asked anything,
/// so a good submission costs one round trip (the confirm step).
void take_payment(api_context& ctx, const httplib::Request& req,
                  httplib::Response& res) {
  const std::string session_id = req.matches[1];
  if (!form_from_own_page(req.get_header_value("Origin"),
                          req.get_header_value("Sec-Fetch-Site"),
                          req.get_header_value("Host"),
                          ctx.settings.public_url)) {
    return html(res,
                message_page("Payment not sent",
                             "This payment form can only be sent from its "
                             "own page. Nothing was charged.",
                             "/pay/" + session_id, "Open the payment page"),
                403);
  }
  auto form = codec::decode_form(req.body);
  auto* params = std::get_if<json>(&form);
  auto field = [&](const char* key) {
    return params != nullptr && (*params)[key].is_string()
             ? (*params)[key].get<std::string>()
             : std::string{};
  };
  auto nonce = field("nonce");
  if (params == nullptr || nonce.empty() || nonce.size() > 64) {
    return show_form_errors(ctx, session_id,
                            {{"form", "The form was incomplete. Please try "
                                      "again."}},
                            crypto::random_base62(22), "", "", 400, res);
  }
  auto [year, month] = current_year_month();
  auto checked = codec::check_card({field("number"), field("exp"),
                                    field("cvc")},
                                   year, month);
  if (auto* errs = std::get_if<std::vector<codec::card_error>>(&checked)) {
    std::map<std::string, std::string> errors;
    for (auto& e : *errs) {
      errors[e.field] = e.message;
    }
    // The same nonce: the corrected form is still one submission.
    return show_form_errors(ctx, session_id, errors, nonce, field("name"),
                            field("exp"), 422, res);
  }
  // The name on the card is kept as its billing details (Stripe's
  // PaymentMethod and Charge show it), checked as the API checks them.
  std::string billing_json;
  if (auto name = field("name"); !name.empty()) {
    auto billing = parse_billing_details(json{{"name", name}});
    if (std::get_if<api_error>(&billing) != nullptr
        || may_hold_typed_card_number(name)) {
      return show_form_errors(
        ctx, session_id,
        {{"name", "Please enter the name as it is written on the card."}},
        nonce, "", field("exp"), 422, res);
    }
    billing_json = std::get<std::string>(billing);
  }
  submit_payment(ctx, session_id, std::get<codec::card_fields>(checked), nonce,
                 billing_json, res);
}

/// GET /pay/<cs>/status, answered from the payment's state, so a browser
/// without scripts (which reloads it) gets where a script would take it.
void show_status(api_context& ctx, const httplib::Request& req,
                 httplib::Response& res) {
  auto loaded = load_view(ctx, req.matches[1]);
  if (auto* status = std::get_if<int>(&loaded)) {
    return error_status_page(res, *status);
  }
  auto& v = std::get<session_view>(loaded);
  if (v.cs["status"] == "complete") {
    return redirect(res, success_redirect(v.cs));
  }
  if (answered_closed(v, res)) {
    return;
  }
  if (v.pi["status"] == "requires_payment_method") {
    if (v.pi["last_error_message"].empty()) {
      // Nothing submitted yet: the form is where to go.
      return redirect(res, "/pay/" + v.cs["id"]);
    }
    return html(res, status_page(v.cs, v.pi["last_error_message"]));
  }
  html(res, status_page(v.cs, ""));
}

void status_json(api_context& ctx, const httplib::Request& req,
                 httplib::Response& res) {
  auto loaded = load_view(ctx, req.matches[1]);
  if (auto* status = std::get_if<int>(&loaded)) {
    res.status = *status;
    res.set_content(json{{"error", *status == 404 ? "not found"
                                                   : "unavailable"}}
                      .dump(),
                    "application/json");
    return;
  }
  auto& v = std::get<session_view>(loaded);
  json out{{"status", v.cs["status"]},
           {"payment_status", v.cs["payment_status"]},
           {"intent_status", v.pi["status"]},
           {"error_message", nullptr},
           {"redirect_url", nullptr},
           {"attempts_left", page_attempts_max}};
  if (auto tried = parse_count(v.pi["page_attempts"])) {
    out["attempts_left"] = std::max<int64_t>(0, page_attempts_max - *tried);
  }
  if (page_closed(v)) {
    out["attempts_left"] = 0;
    out["closed_message"] = page_closed_after_error;
  }
  if (v.cs["status"] == "complete") {
    out["redirect_url"] = success_redirect(v.cs);
  } else if (v.pi["status"] == "requires_payment_method"
             && !v.pi["last_error_message"].empty()) {
    out["error_message"] = v.pi["last_error_message"];
  }
  res.set_header("Cache-Control", "no-store");
  res.set_content(out.dump(), "application/json");
}

} // namespace

void add_hosted_page_routes(httplib::Server& srv, api_context& ctx) {
  const std::string id = "([A-Za-z0-9_]+)";
  srv.Get("/pay/" + id, [&ctx](const httplib::Request& req,
                               httplib::Response& res) {
    show_form(ctx, req, res);
  });
  srv.Post("/pay/" + id, [&ctx](const httplib::Request& req,
                                httplib::Response& res) {
    take_payment(ctx, req, res);
  });
  srv.Get("/pay/" + id + "/status", [&ctx](const httplib::Request& req,
                                           httplib::Response& res) {
    show_status(ctx, req, res);
  });
  srv.Get("/pay/" + id + "/status.json",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            status_json(ctx, req, res);
          });
}

} // namespace psp::http
