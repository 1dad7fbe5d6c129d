#include "adapters/http/request_support.hpp"

#include "actors/clock.hpp"
#include "adapters/codec/form_decode.hpp"
#include "adapters/crypto/api_key.hpp"
#include "adapters/crypto/encoding.hpp"
#include "adapters/http/auth_failure_log.hpp"
#include "adapters/http/text_checks.hpp"
#include "adapters/redis/archive_store.hpp"
#include "adapters/redis/keys.hpp"

#include <httplib.h>

namespace psp::http {

namespace {

api_error auth_error(std::string message) {
  api_error e;
  e.status = 401;
  e.type = "invalid_request_error";
  e.message = std::move(message);
  return e;
}

/// Stripe shows only the last four characters of a rejected key.
/// The key's type prefix (`sk_test_`) and last four: whatever the client
/// sent (a card number by mistake, say) shows no more than that.
std::string redact_key(const std::string& key) {
  if (key.size() <= 8) {
    return "****";
  }
  auto prefix_end = key.rfind('_', 7);
  auto prefix = prefix_end == std::string::npos ? std::string{}
                                                : key.substr(0, prefix_end + 1);
  return prefix + "****" + key.substr(key.size() - 4);
}

api_error rate_limited() {
  api_error e;
  e.status = 429;
  e.code = "rate_limit";
  e.message = "Too many requests hit the API too quickly. Slow down and "
              "retry with exponential backoff.";
  return e;
}

} // namespace

std::variant<merchant_info, api_error>
authenticate(api_context& ctx, const httplib::Request& req) {
  auto who = identify(ctx, req);
  if (auto* m = std::get_if<merchant_info>(&who)) {
    if (!ctx.limiter.admit(m->id)) {
      return rate_limited();
    }
  }
  return who;
}

std::variant<merchant_info, api_error>
identify(api_context& ctx, const httplib::Request& req) {
  auto header = req.get_header_value("Authorization");
  constexpr std::string_view bearer = "bearer "; // any case
  if (header.empty()) {
    log_auth_failure("api", "no_key", "", req.remote_addr);
    return auth_error("You did not provide an API key. You need to provide "
                      "your API key in the Authorization header, using "
                      "Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_"
                      "KEY').");
  }
  std::string key;
  constexpr std::string_view basic = "basic ";
  if (starts_with_ignoring_case(header, bearer)) {
    key = header.substr(bearer.size());
  } else if (starts_with_ignoring_case(header, basic)) {
    // curl -u sk_test_...: sends the key as the user name, no password.
    auto decoded = crypto::base64_decode(header.substr(basic.size()));
    key = decoded ? decoded->substr(0, decoded->find(':')) : std::string{};
  }
  if (key.empty()) {
    log_auth_failure("api", "malformed_header", "", req.remote_addr);
    return auth_error("Invalid authorization header: use Bearer auth "
                      "(Authorization: Bearer sk_test_...).");
  }
  auto hash = crypto::api_key_hash(key);
  ctx.refresh_merchant_cache();
  if (auto hit = ctx.cached_merchant(hash)) {
    return *hit;
  }
  auto epoch = ctx.merchant_cache_epoch();
  auto conn = ctx.redis.acquire();
  auto found = conn->query({"GET", keys::api_key(hash)});
  if (!found) {
    return unavailable("Authentication");
  }
  if (found->is_nil()) {
    log_auth_failure("api", "unknown_key", redact_key(key), req.remote_addr);
    return auth_error("Invalid API Key provided: " + redact_key(key));
  }
  auto m = conn->query({"HGETALL", keys::merchant(found->text())});
  if (!m) {
    return unavailable("Authentication");
  }
  auto f = to_fields(*m);
  // The merchant's key, or the one it replaced while their overlap lasts
  // (psp-admin roll-key --expire-old-s).
  bool current = !f.empty() && crypto::api_key_matches(key, f["key_hash"]);
  bool previous = !current && !f["previous_key_hash"].empty()
                  && crypto::api_key_matches(key, f["previous_key_hash"])
                  && parse_count(f["previous_key_until"]).value_or(0)
                       > unix_now_s();
  if (!current && !previous) {
    log_auth_failure("api", "revoked_key", redact_key(key), req.remote_addr);
    return auth_error("Invalid API Key provided: " + redact_key(key));
  }
  merchant_info info;
  info.id = found->text();
  info.name = f["name"];
  info.fee_bps = static_cast<int32_t>(parse_count(f["fee_bps"]).value_or(
    ctx.settings.default_fee_bps));
  info.fee_fixed_minor = parse_count(f["fee_fixed_minor"])
                           .value_or(ctx.settings.default_fee_fixed_minor);
  // A previous key is cached no longer than its overlap lasts.
  std::optional<int64_t> ttl_ms;
  if (previous) {
    ttl_ms = (parse_count(f["previous_key_until"]).value_or(0) - unix_now_s())
             * 1000;
  }
  ctx.cache_merchant(hash, info, epoch, ttl_ms);
  return info;
}

std::variant<render::fields, api_error>
read_owned(api_context& ctx, const merchant_info& merchant,
           const std::string& key, const std::string& object_name,
           const std::string& id, const std::string& reading) {
  auto conn = ctx.redis.acquire();
  // A paid charge may be archived by now: read_object unpacks it.
  auto read = redis::read_object(*conn, key);
  if (!read) {
    return unavailable("Reading " + reading);
  }
  auto& f = *read;
  auto owner = f.find("merchant");
  if (owner == f.end() || owner->second != merchant.id) {
    return not_found(object_name, id);
  }
  return f;
}

bool is_form_type(std::string_view content_type) {
  auto media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) {
    media.remove_suffix(1);
  }
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) {
    media.remove_prefix(1);
  }
  return equals_ignoring_case(media, form_content_type);
}

std::variant<nlohmann::json, api_error>
decode_body(const httplib::Request& req) {
  auto type_header = req.get_header_value("Content-Type");
  std::string_view type = type_header;
  if (type.rfind(unparsed_marker, 0) == 0) {
    type.remove_prefix(std::string_view{unparsed_marker}.size());
  }
  // cpp-httplib moves multipart parts into `files` and leaves the body
  // empty: never read that as "no parameters".
  bool other_type = req.is_multipart_form_data() || !req.files.empty()
                    || (!req.body.empty() && !is_form_type(type));
  if (other_type) {
    api_error e;
    e.message = "Invalid request: bodies must be "
                "application/x-www-form-urlencoded.";
    return e;
  }
  auto decoded = codec::decode_form(req.body);
  if (auto* err = std::get_if<codec::form_error>(&decoded)) {
    api_error e;
    e.message = "Invalid request body: " + err->message;
    e.param = err->param;
    e.code = "parameter_invalid";
    return e;
  }
  return std::get<nlohmann::json>(std::move(decoded));
}

std::variant<std::optional<std::string>, api_error>
request_param(const httplib::Request& req, const char* name) {
  auto body = decode_body(req);
  if (auto* err = std::get_if<api_error>(&body)) {
    return *err; // a duplicate in the body, among others
  }
  auto& params = std::get<nlohmann::json>(body);
  bool in_body = params.contains(name);
  auto in_query = req.get_param_value_count(name);
  if (in_query > 1 || (in_query == 1 && in_body)) {
    return invalid_param(name, std::string{name} + " is given twice.");
  }
  if (in_query == 1) {
    return std::optional<std::string>{req.get_param_value(name)};
  }
  if (in_body && params[name].is_string()) {
    return std::optional<std::string>{params[name].get<std::string>()};
  }
  if (in_body) {
    return invalid_param(name, std::string{name} + " must be a string.");
  }
  return std::optional<std::string>{};
}

std::optional<api_error>
reject_unknown(const nlohmann::json& params,
               std::initializer_list<const char*> allowed) {
  for (auto& [key, _] : params.items()) {
    bool known = false;
    for (auto* a : allowed) {
      known = known || key == a;
    }
    if (!known) {
      return unknown_param(key);
    }
  }
  return std::nullopt;
}

std::optional<api_error> reject_non_card_types(const nlohmann::json& params) {
  if (!params.contains("payment_method_types")) {
    return std::nullopt;
  }
  auto& types = params["payment_method_types"];
  if (!types.is_array() || types.empty()) {
    return invalid_param("payment_method_types",
                         "Invalid array: payment_method_types.");
  }
  for (auto& t : types) {
    if (!t.is_string() || t.get<std::string>() != "card") {
      return invalid_param("payment_method_types",
                           "Only the card payment method type is supported.");
    }
  }
  return std::nullopt;
}

std::optional<api_error>
reject_non_strings(const nlohmann::json& params,
                   std::initializer_list<const char*> keys) {
  for (auto* key : keys) {
    if (params.is_object() && params.contains(key)
        && !params[key].is_string()) {
      return invalid_param(key, std::string{"Invalid value for "} + key
                                  + ": expected a string.");
    }
  }
  return std::nullopt;
}

std::variant<std::string, api_error>
string_param(const nlohmann::json& params, const std::string& path,
             const std::string& key) {
  if (!params.is_object() || !params.contains(key)) {
    return std::string{};
  }
  auto& v = params[key];
  if (!v.is_string()) {
    return invalid_param(path, "Invalid value for " + path
                                 + ": expected a string.");
  }
  return v.get<std::string>();
}

std::optional<int64_t> parse_count(const std::string& text) {
  if (text.empty() || text.size() > 18) {
    return std::nullopt;
  }
  int64_t out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    out = out * 10 + (c - '0');
  }
  return out;
}

render::fields to_fields(const redis::value& reply) {
  return redis::hash_fields(reply);
}

std::optional<form_request>
authenticated_form(api_context& ctx, const httplib::Request& req,
                   httplib::Response& res,
                   std::initializer_list<const char*> allowed) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    write_error(res, *err);
    return std::nullopt;
  }
  auto body = decode_body(req);
  if (auto* err = std::get_if<api_error>(&body)) {
    write_error(res, *err);
    return std::nullopt;
  }
  auto& params = std::get<nlohmann::json>(body);
  if (auto err = reject_unknown(params, allowed)) {
    write_error(res, *err);
    return std::nullopt;
  }
  return form_request{std::get<merchant_info>(who), std::move(params)};
}

std::optional<nlohmann::json>
render_rows(redis::connection& conn, const std::vector<std::string>& ids,
            const std::function<std::string(const std::string&)>& key_of,
            const std::function<nlohmann::json(const std::string&,
                                               render::fields&)>& render) {
  auto data = nlohmann::json::array();
  if (ids.empty()) {
    return data;
  }
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (auto& id : ids) {
    keys.push_back(key_of(id));
  }
  auto rows = redis::read_objects(conn, keys); // live or archived
  if (!rows || rows->size() != ids.size()) {
    return std::nullopt;
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    auto& f = (*rows)[i];
    if (!f.empty()) {
      data.push_back(render(ids[i], f));
    }
  }
  return data;
}

std::variant<std::string, api_error>
metadata_param(const nlohmann::json& params, metadata_use use) {
  if (!params.contains("metadata")) {
    return std::string{"{}"};
  }
  auto& md = params["metadata"];
  if (md.is_string() && md.get<std::string>().empty()) {
    // metadata= clears it, as in Stripe
    return std::string{use == metadata_use::update ? "clear" : "{}"};
  }
  if (!md.is_object()) {
    return invalid_param("metadata", "Invalid metadata: expected a hash "
                                     "(metadata[key]=value).");
  }
  if (md.size() > 50) {
    return invalid_param("metadata", "Metadata can have at most 50 keys.");
  }
  auto kept = nlohmann::json::object();
  for (auto& [k, v] : md.items()) {
    if (!v.is_string()) {
      return invalid_param("metadata[" + k + "]",
                           "Metadata values must be strings: nested "
                           "hashes and arrays are not allowed.");
    }
    if (utf8_length(k) > 40 || utf8_length(v.get<std::string>()) > 500) {
      return invalid_param("metadata[" + k + "]",
                           "Metadata keys are at most 40 characters and "
                           "values at most 500 characters.");
    }
    // An empty value unsets a key in Stripe; on a new object there is
    // nothing to unset, so the key is simply not stored.
    if (use == metadata_use::update || !v.get<std::string>().empty()) {
      kept[k] = v;
    }
  }
  return kept.dump();
}

} // namespace psp::http
