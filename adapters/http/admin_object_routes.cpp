// GET /admin/objects/<id>: any object by its id, whichever merchant owns
// it, for the operator (admin token). The on-call audit could reach a
// payment only with its merchant's secret key, which an operator does not
// hold (keys are stored as hashes), or by reading Redis by hand, where an
// archived payment is compressed. The answer is the object as the merchant
// API renders it, plus its merchant; an attempt (`pa_`, what the dead
// letters and logs name) shows its state, never its sealed card.

#include "adapters/http/admin_auth.hpp"
#include "adapters/http/api_errors.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/http/routes.hpp"
#include "adapters/http/stored_event.hpp"

#include "adapters/redis/archive_store.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/render/objects.hpp"

#include <httplib.h>

#include <optional>

namespace psp::http {

namespace {

using json = nlohmann::json;

/// Fields of an attempt an operator may see: its state and the card's
/// brand and last four, not the sealed card (`job`).
json attempt_view(const std::string& id, const render::fields& pa) {
  json out{{"id", id}, {"object", "payment_attempt"}};
  for (auto& [k, v] : pa) {
    if (k != "job") {
      out[k] = v;
    }
  }
  return out;
}

/// The object and its owner; nullopt when no object has this id.
std::optional<std::pair<json, std::string>>
render_any(redis::connection& conn, const std::string& id, bool& failed) {
  auto read = [&](const std::string& key) {
    auto f = redis::read_object(conn, key); // maybe archived
    failed = failed || !f;
    return f ? *f : render::fields{};
  };
  auto owner = [](const render::fields& f) {
    auto it = f.find("merchant");
    return it == f.end() ? std::string{} : it->second;
  };
  render::fields f;
  json object;
  if (id.rfind("cs_", 0) == 0) {
    f = read(keys::session(id));
    object = f.empty() ? json{} : render::checkout_session(f);
  } else if (id.rfind("pi_", 0) == 0) {
    f = read(keys::intent(id));
    object = f.empty() ? json{} : render::payment_intent(f);
  } else if (id.rfind("ch_", 0) == 0) {
    auto index = read("charge:" + id);
    auto intent = index.find("intent");
    if (intent != index.end()) {
      f = read(keys::intent(intent->second));
      object = f.empty() ? json{} : render::charge(f);
    }
  } else if (id.rfind("re_", 0) == 0) {
    f = read(keys::refund(id));
    object = f.empty() ? json{} : render::refund(f);
  } else if (id.rfind("pa_", 0) == 0) {
    f = read(keys::attempt(id));
    object = f.empty() ? json{} : attempt_view(id, f);
  } else if (id.rfind("evt_", 0) == 0) {
    f = read(keys::event(id));
    if (!f.empty()) {
      auto live = live_endpoints(conn, owner(f));
      failed = failed || !live;
      object = render_stored_event(id, f, live ? *live : std::set<std::string>{});
    }
  }
  if (object.is_null()) {
    return std::nullopt;
  }
  return std::pair{std::move(object), owner(f)};
}

void show_object(api_context& ctx, const httplib::Request& req,
                 httplib::Response& res) {
  std::string id = req.matches[1];
  auto conn = ctx.redis.acquire();
  bool failed = false;
  auto found = render_any(*conn, id, failed);
  if (failed) {
    return write_error(res, unavailable("Reading objects"));
  }
  if (!found) {
    // The id is not echoed: admin answers are not masked (their ids are
    // stream entries of 13 digits and more), and a card number pasted by
    // mistake would be.
    api_error e;
    e.status = 404;
    e.code = "resource_missing";
    e.param = "id";
    e.message = "No object has this id (cs_, pi_, ch_, re_, pa_ or evt_).";
    return write_error(res, e);
  }
  write_json(res, json{{"object", found->first}, {"merchant", found->second}}
                    .dump());
}

} // namespace

void add_admin_object_routes(httplib::Server& srv, api_context& ctx) {
  srv.Get("/admin/objects/([A-Za-z0-9_]+)", admin_only(ctx, show_object));
}

} // namespace psp::http
