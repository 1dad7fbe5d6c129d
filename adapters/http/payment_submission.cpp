#include "adapters/http/payment_submission.hpp"

#include "actors/clock.hpp"
#include "actors/payment_logic.hpp"
#include "adapters/card_network/card_network_client.hpp"
#include "adapters/http/object_ids.hpp"
#include "adapters/http/payment_methods.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/redis/job_codec.hpp"
#include "adapters/redis/archive_store.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/scripts.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <thread>

namespace psp::http {

namespace {

std::string field(const render::fields& f, const std::string& key) {
  auto i = f.find(key);
  return i == f.end() ? std::string{} : i->second;
}

} // namespace

std::pair<int, int> utc_year_month() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  return {utc.tm_year + 1900, utc.tm_mon + 1};
}

std::optional<render::fields> read_intent(api_context& ctx,
                                          const std::string& id) {
  auto conn = ctx.redis.acquire();
  return redis::read_object(*conn, keys::intent(id)); // maybe archived
}

std::variant<std::string, api_error>
submit_attempt(api_context& ctx, const render::fields& pi,
               const payment_method_choice& pm,
               const std::string& receipt_email) {
  payment_job job;
  job.intent_id = field(pi, "id");
  job.attempt_id = object_id("pa_");
  job.merchant_id = field(pi, "merchant");
  job.amount_minor = parse_count(field(pi, "amount")).value_or(0);
  job.currency = field(pi, "currency");
  job.fee_bps = static_cast<int32_t>(parse_count(field(pi, "fee_bps"))
                                       .value_or(0));
  job.fee_fixed_minor = parse_count(field(pi, "fee_fixed_minor")).value_or(0);
  job.op = field(pi, "capture_method") == "manual" ? payment_op::authorize
                                                   : payment_op::charge;
  job.sealed_card = ctx.vault.seal(card::card_plaintext(pm.card.pan,
                                                        pm.card.exp_month,
                                                        pm.card.exp_year),
                                   job.attempt_id);
  auto brand = std::string{codec::to_string(pm.card.brand)};
  bool typed = pm.payment_method_id.empty();
  auto conn = ctx.redis.acquire();
  auto out = redis::eval(
    *conn, redis::confirm_intent_script(),
    {keys::intent(job.intent_id), keys::attempt(job.attempt_id),
     keys::payment_stream_for(job.intent_id)},
    {std::to_string(unix_now_s()), job.attempt_id, brand, pm.card.last4,
     redis::encode_job(job), to_string(job.op),
     typed ? card_payment_method_id(job.attempt_id) : pm.payment_method_id,
     typed ? std::to_string(pm.card.exp_month) : "",
     typed ? std::to_string(pm.card.exp_year) : "", receipt_email,
     pm.billing_details_json});
  auto last_error = conn->last_error();
  conn.reset();
  if (!out || out->is_error() || !out->is_array() || out->elements.empty()) {
    spdlog::error("event=confirm_failed intent={} error=\"{}\"", job.intent_id,
                  out ? out->str : last_error);
    return unavailable("Confirming payment intents");
  }
  auto verdict = out->elements[0].text();
  if (verdict == "ok") {
    ++ctx.counters.payments_submitted;
    spdlog::info("event=payment_submitted intent={} attempt={} op={} brand={} "
                 "last4={}",
                 job.intent_id, job.attempt_id, to_string(job.op), brand,
                 pm.card.last4);
    return job.attempt_id;
  }
  if (verdict == "submitted") {
    // An earlier run of this request submitted the attempt (a run that
    // stalled, woke after its key was taken over, and got here last).
    return job.attempt_id;
  }
  if (verdict == "session") {
    return session_owned_intent("the shopper pays it on the hosted page.");
  }
  if (verdict == "state") {
    // A re-run of this request whose attempt exists answered "submitted"
    // above: the step checks that before the intent's status.
    auto status = out->elements.size() > 1 ? out->elements[1].text() : "";
    return unexpected_state("confirm", status);
  }
  return not_found("payment_intent", job.intent_id);
}

bool await_op(api_context& ctx, const std::string& op_id, uint32_t wait_ms) {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::milliseconds{wait_ms};
  auto pause = std::chrono::milliseconds{2};
  for (;;) {
    {
      auto conn = ctx.redis.acquire();
      // A finished op may be archived already (a refund's re-run).
      auto status =
        redis::query_fields(*conn, {{"HGET", keys::attempt(op_id), "status"}});
      if (status && !status->empty() && !(*status)[0].is_nil()
          && (*status)[0].text() != "pending") {
        return true;
      }
    }
    if (clock::now() + pause > deadline) {
      return false;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds{50});
  }
}

namespace {

/// The 402 of attempt `attempt_id` if the network declined it, from its own
/// record: for an intent another confirm has moved on since (a decline
/// frees the intent for the next card at once).
std::optional<api_error> own_decline(api_context& ctx,
                                     const std::string& attempt_id) {
  auto conn = ctx.redis.acquire();
  auto attempt = redis::read_object(*conn, keys::attempt(attempt_id));
  if (!attempt || field(*attempt, "status") != "failed") {
    return std::nullopt;
  }
  auto decline = field(*attempt, "decline_code");
  api_error e;
  e.status = 402;
  e.type = "card_error";
  e.code = decline_error_code(decline);
  if (!decline.empty()) {
    e.decline_code = render::stripe_decline_code(decline);
  }
  e.message = field(*attempt, "error_message");
  if (e.message.empty()) { // recorded before attempts kept their message
    e.message = "Your card was declined.";
  }
  return e;
}

} // namespace

void answer_confirmed(api_context& ctx, const std::string& intent_id,
                      const std::string& attempt_id, httplib::Response& res) {
  auto pi = read_intent(ctx, intent_id);
  if (!pi || pi->empty()) {
    return write_error(res, unavailable("Reading payment intents"));
  }
  auto& f = *pi;
  auto body = render::payment_intent(f);
  if (field(f, "attempt") != attempt_id) {
    // Not the intent's latest attempt: answer this one's outcome. Rendering
    // the intent as it stands would tell a declined card it paid (another
    // card's confirm, accepted after the decline, is processing or paid),
    // and the Idempotency-Key would replay that for a day.
    if (auto e = own_decline(ctx, attempt_id)) {
      e->payment_intent_json = body.dump();
      return write_error(res, *e);
    }
  }
  if (field(f, "attempt") == attempt_id
      && field(f, "status") == "requires_payment_method"
      && !field(f, "last_error_code").empty()) {
    api_error e;
    e.status = 402;
    e.type = "card_error";
    e.code = field(f, "last_error_code");
    if (!field(f, "last_error_decline_code").empty()) {
      e.decline_code =
        render::stripe_decline_code(field(f, "last_error_decline_code"));
    }
    e.message = field(f, "last_error_message");
    e.payment_intent_json = body.dump();
    // Stripe names the declined card too; without it the error still stands.
    auto pm = find_payment_method(ctx, field(f, "last_error_payment_method"));
    if (auto* found = std::get_if<std::optional<found_payment_method>>(&pm);
        found != nullptr && found->has_value()) {
      e.payment_method_json = (*found)->object.dump();
    }
    return write_error(res, e);
  }
  write_json(res, body.dump());
}

} // namespace psp::http
