#include "adapters/http/expansion.hpp"

#include "adapters/codec/form_decode.hpp"
#include "adapters/http/payment_methods.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/redis/archive_store.hpp"
#include "adapters/redis/keys.hpp"

#include <httplib.h>

#include <algorithm>
#include <regex>

namespace psp::http {

namespace {

using json = nlohmann::json;

/// What an expanded id becomes. The two leaves expand no further.
enum class node {
  payment_intent,
  charge,
  refund,
  checkout_session,
  payment_method,
  balance_transaction
};

/// Stripe expands four levels deep at most.
constexpr size_t expand_depth_max = 4;
/// More paths than any integration asks for at once.
constexpr size_t expand_paths_max = 20;

node node_of(expandable type) {
  switch (type) {
    case expandable::payment_intent:
      return node::payment_intent;
    case expandable::charge:
      return node::charge;
    case expandable::refund:
      return node::refund;
    case expandable::checkout_session:
      break;
  }
  return node::checkout_session;
}

/// The object the id in `field` of a `from` names, if it can be expanded.
std::optional<node> child(node from, const std::string& field) {
  struct edge {
    node from;
    const char* field;
    node to;
  };
  static constexpr edge edges[] = {
    {node::payment_intent, "latest_charge", node::charge},
    {node::payment_intent, "payment_method", node::payment_method},
    {node::charge, "balance_transaction", node::balance_transaction},
    {node::charge, "payment_intent", node::payment_intent},
    {node::refund, "charge", node::charge},
    {node::refund, "payment_intent", node::payment_intent},
    {node::refund, "balance_transaction", node::balance_transaction},
    {node::checkout_session, "payment_intent", node::payment_intent},
  };
  for (auto& e : edges) {
    if (e.from == from && field == e.field) {
      return e.to;
    }
  }
  return std::nullopt;
}

std::vector<std::string> segments_of(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    auto dot = path.find('.', start);
    out.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) {
      return out;
    }
    start = dot + 1;
  }
}

bool expandable_path(node from, const std::string& path) {
  auto segments = segments_of(path);
  if (segments.size() > expand_depth_max) {
    return false;
  }
  for (auto& s : segments) {
    auto to = child(from, s);
    if (!to) {
      return false;
    }
    from = *to;
  }
  return true;
}

/// Appends `path` to `out` if it can be expanded on a `type` and there is
/// room; the 400 saying which otherwise.
std::optional<api_error> add_path(std::vector<std::string>& out,
                                  expandable type, const std::string& path) {
  if (!expandable_path(node_of(type), path)) {
    return invalid_param("expand", "This property cannot be expanded ("
                                     + path.substr(0, 100) + ").");
  }
  if (out.size() == expand_paths_max) {
    return invalid_param("expand", "At most "
                                     + std::to_string(expand_paths_max)
                                     + " properties can be expanded.");
  }
  out.push_back(path);
  return std::nullopt;
}

/// `expand`, `expand[]` and `expand[N]`: how Stripe's clients spell it.
bool is_expand_key(const std::string& key) {
  if (key == "expand" || key == "expand[]") {
    return true;
  }
  return key.size() > 8 && key.rfind("expand[", 0) == 0 && key.back() == ']'
         && std::all_of(key.begin() + 7, key.end() - 1,
                        [](char c) { return c >= '0' && c <= '9'; });
}

/// The intent behind an object of `from` (whose fields are `fields`): the
/// same fields for an intent or a charge (a charge is rendered from its
/// intent), read for a refund or a session, once per answer (`read`
/// keeps it for the next path). nullopt when Redis failed.
std::optional<render::fields> intent_fields(api_context& ctx, node from,
                                            const render::fields& fields,
                                            std::optional<render::fields>& read) {
  if (from == node::payment_intent || from == node::charge) {
    return fields;
  }
  if (read) {
    return read;
  }
  auto key = from == node::refund ? "payment_intent" : "intent";
  auto id = fields.find(key);
  if (id == fields.end() || id->second.empty()) {
    return render::fields{};
  }
  auto conn = ctx.redis.acquire();
  read = redis::read_object(*conn, keys::intent(id->second)); // maybe archived
  return read;
}

std::optional<api_error> expand_at(api_context& ctx, node from,
                                   const render::fields& fields, json& body,
                                   const std::vector<std::string>& segments,
                                   size_t at,
                                   std::optional<render::fields>& read) {
  if (at == segments.size()) {
    return std::nullopt;
  }
  auto& field = segments[at];
  auto to = *child(from, field); // checked by expand_paths
  auto& slot = body[field];
  if (slot.is_null()) {
    return std::nullopt; // nothing there to expand (no charge yet, ...)
  }
  render::fields next;
  if (to == node::charge || to == node::payment_intent) {
    auto intent = intent_fields(ctx, from, fields, read);
    if (!intent) {
      return unavailable("Expanding " + field);
    }
    next = std::move(*intent);
    if (slot.is_string()) {
      slot = to == node::charge ? render::charge(next)
                                : render::payment_intent(next);
    }
  } else if (slot.is_string() && to == node::balance_transaction) {
    auto conn = ctx.redis.acquire();
    auto txn = redis::read_object(*conn,
                                  keys::balance_transaction(slot.get<std::string>()));
    if (!txn) {
      return unavailable("Expanding " + field);
    }
    if (!txn->empty()) {
      slot = render::balance_transaction(*txn);
    }
  } else if (slot.is_string() && to == node::payment_method) {
    auto pm = find_payment_method(ctx, slot.get<std::string>());
    if (auto* err = std::get_if<api_error>(&pm)) {
      return *err;
    }
    if (auto& found = std::get<std::optional<found_payment_method>>(pm)) {
      slot = found->object;
    }
  }
  return expand_at(ctx, to, next, slot, segments, at + 1, read);
}

} // namespace

std::variant<std::vector<std::string>, api_error>
expand_paths(const httplib::Request& req, expandable type) {
  std::vector<std::string> out;
  for (auto& [key, value] : req.params) {
    if (key.rfind("expand", 0) != 0) {
      continue;
    }
    if (!is_expand_key(key)) {
      // expand[abc], expand[][]: a spelling no client sends, not ignored.
      return invalid_param(key.substr(0, 100),
                           "Invalid array: use expand[]=path or "
                           "expand[0]=path.");
    }
    if (auto err = add_path(out, type, value)) {
      return *err;
    }
  }
  return out;
}

namespace {

/// The paths a POST's form body asks to expand (`expand`, `expand[]`,
/// `expand[N]`: a string or a list of them once decoded).
std::variant<std::vector<std::string>, api_error>
expand_paths_in(const json& params, expandable type) {
  std::vector<std::string> out;
  auto found = params.find("expand");
  if (found == params.end()) {
    return out;
  }
  std::vector<json> given;
  if (found->is_array()) {
    given.assign(found->begin(), found->end());
  } else {
    given.push_back(*found);
  }
  for (auto& value : given) {
    if (!value.is_string()) {
      return invalid_param("expand", "Invalid array: use expand[]=path or "
                                     "expand[0]=path.");
    }
    if (auto err = add_path(out, type, value.get<std::string>())) {
      return *err;
    }
  }
  return out;
}

/// The Redis key an answer of `type` named `id` is rendered from.
std::string key_of(expandable type, const std::string& id) {
  switch (type) {
    case expandable::payment_intent:
      return keys::intent(id);
    case expandable::refund:
      return keys::refund(id);
    case expandable::checkout_session:
      return keys::session(id);
    case expandable::charge:
      break;
  }
  return {}; // no POST answers a charge
}

} // namespace

void run_expanding(api_context& ctx, expandable type,
                   const httplib::Request& req, httplib::Response& res,
                   const std::function<void()>& run) {
  std::vector<std::string> paths;
  if (req.body.find("expand") != std::string::npos) {
    auto decoded = codec::decode_form(req.body);
    if (auto* params = std::get_if<json>(&decoded)) {
      auto found = expand_paths_in(*params, type);
      if (auto* err = std::get_if<api_error>(&found)) {
        return write_error(res, *err);
      }
      paths = std::move(std::get<std::vector<std::string>>(found));
    } // a body that does not decode: the handler refuses it as always
  }
  run();
  if (paths.empty() || res.status != 200) {
    return;
  }
  auto body = json::parse(res.body, nullptr, false);
  auto key = body.is_object() && body.contains("id") && body["id"].is_string()
               ? key_of(type, body["id"].get<std::string>())
               : std::string{};
  if (key.empty()) {
    return;
  }
  std::optional<render::fields> fields;
  {
    auto conn = ctx.redis.acquire();
    fields = redis::read_object(*conn, key); // maybe archived
  }
  if (!fields) {
    return write_error(res, unavailable("Expanding the answer"));
  }
  if (auto err = expand(ctx, type, *fields, body, paths)) {
    return write_error(res, *err);
  }
  res.set_content(body.dump(), "application/json");
}

std::optional<api_error> expand(api_context& ctx, expandable type,
                                const render::fields& fields, json& body,
                                const std::vector<std::string>& paths) {
  std::optional<render::fields> read; // the intent of a refund or session
  for (auto& path : paths) {
    if (auto err = expand_at(ctx, node_of(type), fields, body,
                             segments_of(path), 0, read)) {
      return err;
    }
  }
  return std::nullopt;
}

std::optional<api_error> expand_elsewhere(const httplib::Request& req) {
  static const std::regex retrieves{
    R"(/v1/(payment_intents|charges|refunds|checkout/sessions)/[A-Za-z0-9_]+)"};
  if (req.method != "GET" || req.path.rfind("/v1/", 0) != 0
      || std::none_of(req.params.begin(), req.params.end(), [](auto& p) {
           return p.first.rfind("expand", 0) == 0;
         })
      || std::regex_match(req.path, retrieves)) {
    return std::nullopt;
  }
  return invalid_param("expand", "Nothing can be expanded on " + req.path
                                   + " here: expand works on the retrieves of "
                                     "payment intents, charges, refunds and "
                                     "checkout sessions.");
}

void write_expanded(api_context& ctx, const httplib::Request& req,
                    httplib::Response& res, expandable type,
                    const render::fields& fields, json body) {
  auto paths = expand_paths(req, type);
  if (auto* err = std::get_if<api_error>(&paths)) {
    return write_error(res, *err);
  }
  if (auto err = expand(ctx, type, fields, body,
                        std::get<std::vector<std::string>>(paths))) {
    return write_error(res, *err);
  }
  write_json(res, body.dump());
}

} // namespace psp::http
