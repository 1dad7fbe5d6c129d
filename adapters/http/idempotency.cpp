#include "adapters/http/idempotency.hpp"

#include "actors/clock.hpp"
#include "adapters/archive/answer_codec.hpp"
#include "adapters/codec/form_decode.hpp"
#include "adapters/crash_point.hpp"
#include "adapters/crypto/digest.hpp"
#include "adapters/crypto/encoding.hpp"
#include "adapters/crypto/random_id.hpp"
#include "adapters/http/api_errors.hpp"
#include "adapters/http/card_number_mask.hpp"
#include "adapters/http/expansion.hpp"
#include "adapters/http/object_ids.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/http/stored_reference.hpp"
#include "adapters/http/text_checks.hpp"
#include "adapters/redis/archive_store.hpp"
#include "adapters/redis/scripts.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>
#include <vector>

namespace psp::http {

namespace {

constexpr size_t key_length_max = 255;
/// How long storing an answer is retried while Redis does not answer.
constexpr int64_t record_retry_ms = 3'000;

/// The Redis key of a merchant's Idempotency-Key: the key as sent, unless
/// it holds what reads as a card number (a client may put one anywhere):
/// then a keyed hash of it, so the number is in no Redis key name or log
/// line. Such keys are rare; each still maps to one record.
std::string idempotency_key(std::string_view secret,
                            const std::string& merchant_id,
                            const std::string& key) {
  if (contains_card_number(key)) {
    return "idem:" + merchant_id + ":#"
           + crypto::to_hex(crypto::hmac_sha256(secret, "idempotency key\n"
                                                          + key));
  }
  return "idem:" + merchant_id + ":" + key;
}

api_error idempotency_error(int status, std::string code, std::string msg) {
  api_error e;
  e.status = status;
  e.type = status == 400 ? "idempotency_error" : "invalid_request_error";
  e.code = std::move(code);
  e.message = std::move(msg);
  return e;
}

api_error key_too_long() {
  return invalid_param("Idempotency-Key",
                       "Idempotency-Key is longer than 255 characters.");
}

thread_local answer_kind marked_answer = answer_kind::by_status;

/// One run of a keyed request: who it is and when its claim's lease ends.
struct claim_run {
  std::string redis_key;
  std::string fingerprint;
  std::string owner;
  int64_t lease_end_ms = 0;
};

/// Runs the handler and stores or releases the claim.
void run_claimed(api_context& ctx, const route_handler& handler,
                 const claim_run& run, const std::string& seed,
                 const httplib::Request& req, httplib::Response& res) {
  auto& redis_key = run.redis_key;
  auto& fingerprint = run.fingerprint;
  auto& owner = run.owner;
  marked_answer = answer_kind::by_status;
  try {
    derived_ids_scope ids{ctx.settings.id_secret, redis_key + "\n" + seed};
    handler(req, res);
  } catch (...) {
    // Answered and stored like any 500 (docs/api.md), never left claimed:
    // a claim left "running" would answer 409 to every retry for a day.
    spdlog::error("event=handler_exception method={} path={}", req.method,
                  req.path);
    write_unexpected_error(res);
  }
  crash_point("after_handler");
  if (fail_point("after_handler")) {
    write_error(res, unavailable("Idempotent requests"));
  }
  // Storing the answer is what makes a later retry a replay, so a Redis
  // blip (a pause, a failover) is ridden out for a bounded time before the
  // claim is left to expire. Every try is the same owner-checked step.
  auto kind = marked_answer;
  marked_answer = answer_kind::by_status;
  bool store = kind == answer_kind::executed
               || (kind == answer_kind::by_status && stores_answer(res.status));
  bool keep_seed = res.status == 503 || kind == answer_kind::pending;
  pending_key_write settle;
  settle.keys = {redis_key};
  settle.give_up_at_ms = run.lease_end_ms;
  if (store) {
    settle.script = &redis::idempotency_finish_script();
    settle.args = {fingerprint, std::to_string(res.status),
                   archive::pack_answer(res.body),
                   res.get_header_value("Content-Type"),
                   std::to_string(ctx.settings.idempotency_ttl_s), owner};
  } else {
    // A 503 means Redis failed, perhaps after the handler wrote (a charge
    // queued, a refund reserved), and a pending answer follows a step still
    // under way: the retry must name the same objects to find them, so the
    // key keeps its seed.
    settle.script = &redis::idempotency_release_script();
    settle.args = {fingerprint, owner, keep_seed ? "keep_seed" : ""};
  }
  auto pause = std::chrono::milliseconds{50};
  auto deadline = std::chrono::steady_clock::now()
                  + std::chrono::milliseconds{record_retry_ms};
  for (;;) {
    std::optional<redis::value> out;
    {
      auto conn = ctx.redis.acquire();
      out = redis::eval(*conn, *settle.script, settle.keys, settle.args);
    }
    if (out && !out->is_error()) {
      return;
    }
    if (std::chrono::steady_clock::now() + pause > deadline) {
      break;
    }
    std::this_thread::sleep_for(pause);
    pause *= 2;
  }
  // The answer goes out now; storing it (or freeing the claim) is left to
  // the janitor until the lease ends. Were that to fail too, a retry after
  // the lease runs again and, with the ids derived from the key, finds what
  // this run created.
  spdlog::warn("event=idempotency_record_failed key={} status={}", redis_key,
               res.status);
  ctx.janitor.add(std::move(settle));
}

void handle(api_context& ctx, const route_handler& handler,
            const httplib::Request& req, httplib::Response& res) {
  auto key = req.get_header_value("Idempotency-Key");
  if (key.empty()) {
    return handler(req, res);
  }
  if (utf8_length(key) > key_length_max) {
    return write_error(res, key_too_long());
  }
  // The handler authenticates again and takes the rate-limit token.
  auto who = identify(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  auto redis_key = idempotency_key(ctx.settings.fingerprint_secret,
                                   std::get<merchant_info>(who).id, key);
  auto fingerprint = request_fingerprint(ctx.settings.fingerprint_secret,
                                         req.method, req.path, req.body);
  claim_run run{redis_key, fingerprint,
                crypto::random_base62(16), // this run of the request
                0};
  // The seed the ids derive from is itself derived from the request, not
  // drawn: should Redis lose the key's record (an AOF tail cut, a restore
  // from a backup), the client's retry derives the same intent and attempt
  // ids, and the network's idempotency on the attempt id answers the
  // charge it made instead of making a second one (the disaster-recovery
  // drill: 22 of 22 such retries charged twice). Decision 61.
  auto fresh_seed = crypto::to_hex(crypto::hmac_sha256(
                                     ctx.settings.id_secret,
                                     "seed\n" + redis_key + "\n" + fingerprint))
                      .substr(0, 32);
  auto claim_ms = unix_now_ms();
  run.lease_end_ms = claim_ms + ctx.settings.idempotency_lease_ms;
  std::optional<redis::value> claim;
  {
    auto conn = ctx.redis.acquire();
    claim = redis::eval(*conn, redis::idempotency_claim_script(), {redis_key},
                        {fingerprint,
                         std::to_string(ctx.settings.idempotency_lease_ms),
                         run.owner, std::to_string(claim_ms), fresh_seed,
                         std::to_string(ctx.settings.idempotency_ttl_s),
                         ctx.settings.registration_key});
  }
  if (!claim) {
    // No answer: Redis may still apply the claim once it runs again, and
    // would then refuse the very retry this 503 asks for.
    ctx.janitor.add({&redis::idempotency_abandon_script(),
                     {redis_key},
                     {fingerprint, run.owner, fresh_seed},
                     run.lease_end_ms,
                     true});
  }
  if (!claim || claim->is_error() || claim->elements.empty()) {
    return write_error(res, unavailable("Idempotent requests"));
  }
  if (answer_stored_verdict(*claim, key, res)) {
    return;
  }
  crash_point("after_key_claim");
  auto seed = claim->elements.size() >= 2 ? claim->elements[1].text()
                                           : run.owner;
  run_claimed(ctx, handler, run, seed, req, res);
}

} // namespace

std::variant<idempotent_write, api_error>
idempotent_write_for(std::string_view secret, const httplib::Request& req,
                     const std::string& merchant_id,
                     const nlohmann::json& params) {
  idempotent_write w;
  w.key = req.get_header_value("Idempotency-Key");
  if (w.key.empty()) {
    return w;
  }
  if (utf8_length(w.key) > key_length_max) {
    return key_too_long();
  }
  w.redis_key = idempotency_key(secret, merchant_id, w.key);
  w.fingerprint = request_fingerprint(secret, req.method, req.path, params);
  return w;
}

namespace {

/// verdict: replay (with status, body, content type), mismatch or in_use.
bool answer_verdict(const std::string& verdict,
                    const std::vector<std::string>& stored,
                    const std::string& key, httplib::Response& res) {
  if (verdict == "mismatch") {
    write_error(res, idempotency_error(
                       400, "idempotency_key_reused",
                       "Keys for idempotent requests can only be used with "
                       "the same parameters they were first used with. Try "
                       "using a key other than '" + key
                         + "' if you meant to execute a different request."));
    return true;
  }
  if (verdict == "in_use") {
    write_error(res, idempotency_error(
                       409, "idempotency_key_in_use",
                       "There is currently another in-progress request using "
                       "this Idempotency Key. Retry after it completes."));
    return true;
  }
  if (verdict == "replay" && stored.size() == 3) {
    auto body = archive::unpack_answer(stored[1]);
    if (!body) {
      spdlog::error("event=replay_failed key=\"{}\" reason=\"stored answer "
                    "unreadable\"", key);
      write_unexpected_error(res);
      return true;
    }
    res.status = std::stoi(stored[0]);
    res.set_header("Idempotent-Replayed", "true");
    res.set_content(*body, stored[2]);
    return true;
  }
  return false;
}

/// Replays an answer stored by reference; a 503 when it cannot be rendered
/// (its object gone: sessions are never deleted, so not expected).
bool answer_reference(const std::string& status, const std::string& ref,
                      const std::string& as_created, render::fields now,
                      const std::string& key, httplib::Response& res) {
  auto body = render_stored_reference(ref, std::move(now), as_created);
  if (!body) {
    spdlog::error("event=replay_failed ref={} reason=\"object gone\"", ref);
    write_error(res, unavailable("Replaying this Idempotency-Key"));
    return true;
  }
  return answer_verdict("replay", {status, *body, "application/json"}, key,
                        res);
}

} // namespace

bool answer_stored_verdict(const redis::value& reply, const std::string& key,
                           httplib::Response& res) {
  if (!reply.is_array() || reply.elements.empty()) {
    return false;
  }
  auto& e = reply.elements;
  if (e[0].text() == "replay_ref" && e.size() == 5) {
    return answer_reference(e[1].text(), e[2].text(), e[3].text(),
                            to_fields(e[4]), key, res);
  }
  std::vector<std::string> stored;
  for (size_t i = 1; i < e.size(); ++i) {
    stored.push_back(e[i].text());
  }
  return answer_verdict(e[0].text(), stored, key, res);
}

bool answer_if_key_used(api_context& ctx, const idempotent_write& w,
                        httplib::Response& res) {
  if (w.key.empty()) {
    return false;
  }
  auto conn = ctx.redis.acquire();
  auto cur = conn->query({"HMGET", w.redis_key, "state", "fingerprint",
                          "status", "body", "content_type", "ref",
                          "as_created"});
  if (!cur || !cur->is_array() || cur->elements.size() != 7
      || cur->elements[0].is_nil()) {
    return false;
  }
  auto& f = cur->elements;
  if (f[1].text() != w.fingerprint) {
    return answer_verdict("mismatch", {}, w.key, res);
  }
  if (f[0].text() != "done") {
    return false;
  }
  if (!f[5].is_nil()) {
    // The session may be archived by now (a paid one, after a while).
    auto now = redis::read_object(*conn, f[5].text());
    return answer_reference(f[2].text(), f[5].text(), f[6].text(),
                            now ? *now : render::fields{}, w.key, res);
  }
  return answer_verdict("replay", {f[2].text(), f[3].text(), f[4].text()},
                        w.key, res);
}

void mark_answer(answer_kind kind) {
  marked_answer = kind;
}

bool stores_answer(int status) {
  // Stripe stores what an endpoint produced once it started executing:
  // successes, card errors and server errors. Validation, authentication
  // and conflict errors are not stored, so a corrected retry can run; nor is
  // our 503 (Redis unreachable), which tells the client to retry with the
  // same key: storing it would replay the outage for a day.
  return (status >= 200 && status < 300) || status == 402
         || (status >= 500 && status != 503);
}

namespace {

/// `params` without a card's `cvc` (`card[cvc]`,
/// `payment_method_data[card][cvc]`); any other `cvc` (a metadata key, say)
/// is the request's like any parameter.
nlohmann::json without_card_cvc(const nlohmann::json& params,
                                bool in_card = false) {
  if (params.is_array()) {
    auto out = nlohmann::json::array();
    for (auto& item : params) {
      out.push_back(without_card_cvc(item));
    }
    return out;
  }
  if (!params.is_object()) {
    return params;
  }
  auto out = nlohmann::json::object();
  for (auto& [name, value] : params.items()) {
    if (!(in_card && name == "cvc")) {
      out[name] = without_card_cvc(value, name == "card");
    }
  }
  return out;
}

} // namespace

std::string fingerprint_secret(std::string_view vault_key) {
  return crypto::hmac_sha256(vault_key, "psp request fingerprints");
}

std::string request_fingerprint(std::string_view secret,
                                const std::string& method,
                                const std::string& path,
                                const std::string& body) {
  auto decoded = codec::decode_form(body);
  if (auto* params = std::get_if<nlohmann::json>(&decoded)) {
    return request_fingerprint(secret, method, path, *params);
  }
  // Not a form: refused by the handler, and its record with it.
  return crypto::to_hex(
    crypto::hmac_sha256(secret, method + " " + path + "\n" + body));
}

std::string request_fingerprint(std::string_view secret,
                                const std::string& method,
                                const std::string& path,
                                const nlohmann::json& params) {
  // dump() sorts keys: reordered form fields are the same request.
  return crypto::to_hex(crypto::hmac_sha256(
    secret, method + " " + path + "\n" + without_card_cvc(params).dump()));
}

void post_idempotent(httplib::Server& srv, api_context& ctx,
                     const std::string& pattern, route_handler handler) {
  srv.Post(pattern, [&ctx, handler](const httplib::Request& req,
                                    httplib::Response& res) {
    handle(ctx, handler, req, res);
  });
}

void post_idempotent(httplib::Server& srv, api_context& ctx,
                     const std::string& pattern, expandable answers,
                     route_handler handler) {
  // Expanded outside the stored answer: a replay expands from what Redis
  // holds then, as a retrieve would.
  srv.Post(pattern, [&ctx, answers, handler](const httplib::Request& req,
                                             httplib::Response& res) {
    run_expanding(ctx, answers, req, res,
                  [&] { handle(ctx, handler, req, res); });
  });
}

} // namespace psp::http
