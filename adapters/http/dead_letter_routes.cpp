// The operator's dead letters (admin token): list them, replay one onto its
// queue, or discard one that cannot or need not be replayed. What each
// answer means: docs/api.md, "Admin API"; how to clear a dead letter:
// docs/faults.md.

#include "adapters/http/admin_auth.hpp"
#include "adapters/http/admin_ids.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/http/routes.hpp"

#include "actors/clock.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/scripts.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <functional>
#include <map>

namespace psp::http {

namespace {

using json = nlohmann::json;

/// Discarded entries kept (about; the oldest go first): the trail of who
/// cleared what stays bounded even when a script discards thousands.
constexpr const char* discarded_kept_max = "100000";

/// Stream fields that hold Unix seconds.
bool is_time_field(const std::string& name) {
  return name == "created" || name == "replayed" || name == "discarded";
}

/// A dead letter as JSON from its id and its stream fields: times are
/// integers like every other object's (null when Redis holds no number).
json entry_json(const std::string& id,
                const std::vector<redis::value>& fields) {
  json out{{"id", id}, {"object", "dead_letter"}};
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    auto name = fields[i].text();
    auto text = fields[i + 1].text();
    if (is_time_field(name)) {
      auto n = parse_count(text);
      out[name] = n ? json(*n) : json(nullptr);
    } else {
      out[name] = text;
    }
  }
  return out;
}

json entry_json(const redis::value& entry) {
  return entry_json(entry.elements[0].text(), entry.elements[1].elements);
}

void list_dead_letters(api_context& ctx, const httplib::Request& req,
                       httplib::Response& res) {
  // Oldest first, `limit` (1-1000, default 100) at a time; the next page
  // starts after the last id of this one. No filter: `kind=payment` was
  // ignored and its reader discarded the first entry listed, a webhook
  // (the re-test); the bulk routes filter.
  for (auto& [key, _] : req.params) {
    if (key != "limit" && key != "starting_after") {
      auto e = unknown_param(key);
      e.message += " (this list has no filter: POST /admin/dead_letters/"
                   "replay and /discard take kind and endpoint)";
      return write_error(res, e);
    }
  }
  int64_t limit = 100;
  if (req.has_param("limit")) {
    auto n = parse_count(req.get_param_value("limit"));
    if (!n || *n < 1 || *n > 1000) {
      return write_error(res, invalid_param("limit", "limit must be an "
                                                     "integer from 1 to 1000."));
    }
    limit = *n;
  }
  std::string from = "-";
  if (req.has_param("starting_after")) {
    auto after = req.get_param_value("starting_after");
    if (!is_stream_entry_id(after)) {
      return write_error(res, invalid_param("starting_after",
                                            "starting_after must be a dead "
                                            "letter id (<ms>-<seq>)."));
    }
    from = "(" + after;
  }
  auto conn = ctx.redis.acquire();
  auto replies = conn->query_all(
    {{"XRANGE", keys::dead_letter_stream, from, "+", "COUNT",
      std::to_string(limit + 1)},
     {"XLEN", keys::dead_letter_stream}});
  if (!replies || replies->size() != 2) {
    return write_error(res, unavailable("The dead-letter stream"));
  }
  auto& entries = (*replies)[0];
  auto& total = (*replies)[1];
  auto data = json::array();
  for (auto& e : entries.elements) {
    if (static_cast<int64_t>(data.size()) < limit) {
      data.push_back(entry_json(e));
    }
  }
  bool has_more = static_cast<int64_t>(entries.elements.size()) > limit;
  write_json(res, json{{"object", "list"},
                       {"data", data},
                       {"has_more", has_more},
                       {"total_count", total.integer}}
                    .dump());
}

/// The dead letter id of a replay or discard URL; a 404 like an unknown
/// id's when it cannot be one.
std::optional<std::string> entry_id_or_404(const httplib::Request& req,
                                           httplib::Response& res) {
  std::string id = req.matches[1];
  if (!is_stream_entry_id(id)) {
    write_error(res, not_found("dead letter", id));
    return std::nullopt;
  }
  return id;
}

/// Runs the replay step of entry `id`: nullopt when Redis failed, else its
/// answer (the verdict first: replayed, final, missing, endpoint_deleted,
/// endpoint_disabled).
std::optional<redis::value> replay_step(redis::connection& conn,
                                        const std::string& id) {
  auto out = redis::eval(conn, redis::replay_dead_letter_script(),
                         {keys::dead_letter_stream, keys::deliveries_due},
                         {id, std::to_string(unix_now_ms()),
                          std::to_string(unix_now_s())});
  if (!out || out->is_error() || out->elements.empty()) {
    return std::nullopt;
  }
  return out;
}

void replay_dead_letter(api_context& ctx, const httplib::Request& req,
                        httplib::Response& res) {
  auto id = entry_id_or_404(req, res);
  if (!id) {
    return;
  }
  auto conn = ctx.redis.acquire();
  auto out = replay_step(*conn, *id);
  if (!out || out->is_error() || out->elements.empty()) {
    return write_error(res, unavailable("The dead-letter stream"));
  }
  auto verdict = out->elements[0].text();
  if (verdict == "missing") {
    return write_error(res, not_found("dead letter", *id));
  }
  // The entry stays in both cases: the operator decides what to do.
  auto kept = [&](const char* code, std::string message) {
    api_error e;
    e.status = 409;
    e.type = "invalid_request_error";
    e.code = code;
    e.message = std::move(message);
    write_error(res, e);
  };
  if (verdict == "endpoint_deleted") {
    return kept("endpoint_deleted",
                "The webhook endpoint of this delivery was deleted; there "
                "is nothing to deliver it to. Discard the dead letter "
                "(POST /admin/dead_letters/" + *id + "/discard).");
  }
  if (verdict == "endpoint_disabled") {
    return kept("endpoint_disabled",
                "The webhook endpoint of this delivery is disabled, so it "
                "would not be sent. Enable the endpoint (POST "
                "/v1/webhook_endpoints/:id with disabled=false), then "
                "replay; or discard the dead letter.");
  }
  json body{{"id", *id}, {"result", verdict}};
  if (out->elements.size() >= 3) {
    body["kind"] = out->elements[1].text();
    body["ref"] = out->elements[2].text();
  }
  write_json(res, body.dump());
}

/// What the bulk routes act on: dead letters of `kind` (webhook or
/// payment) and, for webhooks, of one `endpoint` (we_...), oldest first, up
/// to `limit` (1-1000, default 100).
struct dead_letter_filter {
  std::string kind;
  std::string endpoint; ///< "" any
  int64_t limit = 100;

  bool matches(const json& entry) const {
    if (entry.value("kind", "") != kind) {
      return false;
    }
    auto ref = entry.value("ref", "");
    auto colon = ref.find(':');
    return endpoint.empty()
           || (colon != std::string::npos && ref.substr(colon + 1) == endpoint);
  }
};

std::variant<dead_letter_filter, api_error>
dead_letter_filter_of(const httplib::Request& req) {
  // From the body or the query string, as every admin POST; anything else,
  // in either place, is refused rather than read as "any" (the re-test:
  // `endpoint=` or a query's endpoint beside a body's kind discarded every
  // endpoint's dead webhooks).
  const std::initializer_list<const char*> allowed{"kind", "endpoint", "limit"};
  auto body = decode_body(req);
  if (auto* err = std::get_if<api_error>(&body)) {
    return *err;
  }
  if (auto err = reject_unknown(std::get<json>(body), allowed)) {
    return *err;
  }
  for (auto& [key, _] : req.params) {
    if (std::none_of(allowed.begin(), allowed.end(),
                     [&](const char* a) { return key == a; })) {
      return unknown_param(key);
    }
  }
  std::array<std::optional<std::string>, 3> given;
  for (size_t i = 0; i < given.size(); ++i) {
    auto one = request_param(req, allowed.begin()[i]);
    if (auto* err = std::get_if<api_error>(&one)) {
      return *err;
    }
    given[i] = std::get<std::optional<std::string>>(one);
  }
  auto& [kind, endpoint, limit] = given;
  dead_letter_filter f;
  f.kind = kind.value_or("");
  if (f.kind != "webhook" && f.kind != "payment") {
    return invalid_param("kind", "kind must be webhook or payment.");
  }
  if (endpoint) {
    if (f.kind != "webhook" || endpoint->rfind("we_", 0) != 0) {
      return invalid_param("endpoint", "endpoint must be a webhook endpoint "
                                       "id (we_...), with kind=webhook; "
                                       "leave it out for every endpoint.");
    }
    f.endpoint = *endpoint;
  }
  if (limit) {
    auto n = parse_count(*limit);
    if (!n || *n < 1 || *n > 1000) {
      return invalid_param("limit", "limit must be an integer from 1 to 1000.");
    }
    f.limit = *n;
  }
  return f;
}

/// The step a bulk route runs on one entry: its verdict, or nullopt when
/// Redis failed.
using bulk_step = std::function<std::optional<std::string>(
  redis::connection& conn, const std::string& entry_id)>;

/// The verdict an entry step's answer starts with; nullopt when Redis
/// failed.
std::optional<std::string> verdict_of(const std::optional<redis::value>& out) {
  if (!out) {
    return std::nullopt;
  }
  return out->elements[0].text();
}

/// Runs `step` on every dead letter the request's filter matches, oldest
/// first, up to its limit, and answers the verdicts counted as `object`
/// (logged as `event`); a Redis failure is a 503.
void run_matching(api_context& ctx, const httplib::Request& req,
                  httplib::Response& res, const char* object,
                  const char* event, const bulk_step& step) {
  auto filter = dead_letter_filter_of(req);
  if (auto* err = std::get_if<api_error>(&filter)) {
    return write_error(res, *err);
  }
  auto& f = std::get<dead_letter_filter>(filter);
  auto conn = ctx.redis.acquire();
  std::map<std::string, int64_t> verdicts;
  int64_t matched = 0;
  bool has_more = false;
  std::string from = "-";
  // Pages of the stream: the operator's filter may match few of many.
  while (!has_more) {
    auto page = conn->query({"XRANGE", keys::dead_letter_stream, from, "+",
                             "COUNT", "500"});
    if (!page) {
      return write_error(res, unavailable("The dead-letter stream"));
    }
    for (auto& e : page->elements) {
      auto entry = entry_json(e);
      if (!f.matches(entry)) {
        continue;
      }
      if (matched >= f.limit) {
        has_more = true;
        break;
      }
      auto verdict = step(*conn, entry.value("id", ""));
      if (!verdict) {
        return write_error(res, unavailable("The dead-letter stream"));
      }
      ++verdicts[*verdict];
      ++matched;
    }
    if (page->elements.size() < 500) {
      break;
    }
    from = "(" + page->elements.back().elements[0].text();
  }
  spdlog::warn("event={} kind={} endpoint={} count={}", event, f.kind,
               f.endpoint.empty() ? "-" : f.endpoint, matched);
  write_json(res, json{{"object", object},
                       {"kind", f.kind},
                       {"matched", matched},
                       {"results", verdicts},
                       {"has_more", has_more}}
                    .dump());
}

/// POST /admin/dead_letters/replay: every dead letter that matches, each
/// replayed as the single replay does (the on-call audit replayed 75 dead
/// webhooks of one fixed endpoint one by one); those kept (deleted or
/// disabled endpoints) stay for the operator as they would.
void replay_matching(api_context& ctx, const httplib::Request& req,
                     httplib::Response& res) {
  run_matching(ctx, req, res, "dead_letter_replay", "dead_letters_replayed",
               [](redis::connection& conn, const std::string& id) {
                 return verdict_of(replay_step(conn, id));
               });
}

/// The discard step of entry `id` (force: a payment step the network never
/// answered too): nullopt when Redis failed, else its answer (the verdict
/// first: discarded, unresolved, missing; then the entry's fields).
std::optional<redis::value> discard_step(redis::connection& conn,
                                         const std::string& id, bool force) {
  auto out = redis::eval(conn, redis::discard_dead_letter_script(),
                         {keys::dead_letter_stream,
                          keys::discarded_dead_letters},
                         {id, force ? "1" : "0", std::to_string(unix_now_s()),
                          discarded_kept_max});
  if (!out || out->is_error() || out->elements.empty()) {
    return std::nullopt;
  }
  return out;
}

/// POST /admin/dead_letters/discard: every dead letter that matches, each
/// discarded as the single discard does without force, so a payment step
/// the network never answered is kept (`unresolved`). The operator audit
/// deleted an endpoint with 303 dead webhooks, which nothing can deliver
/// any more, and cleared them with 303 single discards.
void discard_matching(api_context& ctx, const httplib::Request& req,
                      httplib::Response& res) {
  run_matching(ctx, req, res, "dead_letter_discard", "dead_letters_discarded",
               [](redis::connection& conn, const std::string& id) {
                 return verdict_of(discard_step(conn, id, false));
               });
}

/// `force` of a discard, from the form body or the query string: false
/// when absent, else exactly "true" or "false"; any other parameter, in
/// either place, is refused.
std::variant<bool, api_error> force_param(const httplib::Request& req) {
  auto body = decode_body(req);
  if (auto* err = std::get_if<api_error>(&body)) {
    return *err;
  }
  auto& params = std::get<json>(body);
  if (auto err = reject_unknown(params, {"force"})) {
    return *err;
  }
  for (auto& [key, value] : req.params) {
    if (key != "force") {
      // A typo (`forced=true`) must not discard as if it were absent.
      return unknown_param(key);
    }
  }
  std::optional<std::string> text;
  if (params.contains("force")) {
    // force[x]=... decodes to an object: as wrong as any other value.
    text = params["force"].is_string() ? params["force"].get<std::string>()
                                       : std::string{};
  } else if (req.has_param("force")) {
    text = req.get_param_value("force");
  }
  if (text && *text != "true" && *text != "false") {
    return invalid_param("force", "force must be true or false.");
  }
  return text == "true";
}

/// The 409 of a discard that would leave a payment step unresolved; `step`
/// is its kind (charge, capture, refund, ...).
api_error unresolved_payment(const std::string& id, const json& entry,
                             const std::string& step) {
  api_error e;
  e.status = 409;
  e.code = "payment_unresolved";
  e.param = "force";
  e.message = "Dead letter " + id + " is a payment step ("
              + (step.empty() ? std::string{"?"} : step)
              + ") the card network never answered (attempt "
              + entry.value("ref", "?") + " of payment_intent "
              + entry.value("intent", "?")
              + "): its money may or may not have moved, and it stays "
                "pending until it is replayed. Replay it (POST "
                "/admin/dead_letters/" + id + "/replay) to ask the network "
                "again under the same idempotency key; discard it with "
                "force=true only once you have settled it with the network "
                "yourself, since it then stays pending for good.";
  return e;
}

void discard_dead_letter(api_context& ctx, const httplib::Request& req,
                         httplib::Response& res) {
  auto id = entry_id_or_404(req, res);
  if (!id) {
    return;
  }
  auto force = force_param(req);
  if (auto* err = std::get_if<api_error>(&force)) {
    return write_error(res, *err);
  }
  auto now_s = unix_now_s();
  auto conn = ctx.redis.acquire();
  auto out = discard_step(*conn, *id, std::get<bool>(force));
  if (!out) {
    return write_error(res, unavailable("The dead-letter stream"));
  }
  auto verdict = out->elements[0].text();
  if (verdict == "missing" || out->elements.size() < 2) {
    return write_error(res, not_found("dead letter", *id));
  }
  auto entry = entry_json(*id, out->elements[1].elements);
  if (verdict == "unresolved") {
    auto step = out->elements.size() >= 3 ? out->elements[2].text() : "";
    return write_error(res, unresolved_payment(*id, entry, step));
  }
  bool forced = out->elements.size() >= 3 && out->elements[2].text() == "1";
  spdlog::warn("event=dead_letter_discarded id={} kind={} ref={} forced={}",
               *id, entry.value("kind", ""), entry.value("ref", ""), forced);
  entry["result"] = "discarded";
  entry["discarded"] = now_s;
  entry["forced"] = forced;
  write_json(res, entry.dump());
}

} // namespace

void add_dead_letter_routes(httplib::Server& srv, api_context& ctx) {
  const std::string entry = std::string{"/admin/dead_letters/"}
                            + admin_id_pattern;
  srv.Get("/admin/dead_letters", admin_only(ctx, list_dead_letters));
  srv.Post(entry + "/replay", admin_only(ctx, replay_dead_letter));
  srv.Post("/admin/dead_letters/replay", admin_only(ctx, replay_matching));
  srv.Post(entry + "/discard", admin_only(ctx, discard_dead_letter));
  srv.Post("/admin/dead_letters/discard", admin_only(ctx, discard_matching));
}

} // namespace psp::http
