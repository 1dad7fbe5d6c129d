#pragma once

// Small helpers shared by the route files: authentication, body decoding,
// parameter checks and Redis hash conversion.

#include "adapters/http/api_context.hpp"
#include "adapters/http/api_errors.hpp"
#include "adapters/redis/redis_connection.hpp"
#include "adapters/render/objects.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace httplib {
struct Request;
struct Response;
}

namespace psp::http {

/// The merchant behind `Authorization: Bearer sk_test_...`, or a 401; a
/// 429 when the merchant is over its rate limit (one token per call: call
/// it once per request).
std::variant<merchant_info, api_error>
authenticate(api_context& ctx, const httplib::Request& req);

/// The merchant behind the key, or a 401, without taking a rate-limit token:
/// for a wrapper whose handler authenticates again.
std::variant<merchant_info, api_error>
identify(api_context& ctx, const httplib::Request& req);

/// The one body type the API takes (as Stripe's does).
inline constexpr const char* form_content_type =
  "application/x-www-form-urlencoded";
/// Whether a Content-Type names the form type (media types ignore case;
/// parameters such as `; charset=utf-8` may follow).
bool is_form_type(std::string_view content_type);
/// Put in front of the form type before cpp-httplib reads the body, so it
/// neither caps nor parses it (api_server.cpp).
inline constexpr const char* unparsed_marker = "unparsed+";

/// Decodes a form body (bracket notation) into JSON strings, or a 400: also
/// for any other body type, multipart included, even when it looks empty.
std::variant<nlohmann::json, api_error> decode_body(const httplib::Request& req);

/// What a POST handler starts from: the authenticated merchant and its
/// decoded parameters.
struct form_request {
  merchant_info merchant;
  nlohmann::json params;
};

/// Authenticates, decodes the form body and rejects parameters not in
/// `allowed`; on any failure writes the error to `res` and answers nullopt.
std::optional<form_request>
authenticated_form(api_context& ctx, const httplib::Request& req,
                   httplib::Response& res,
                   std::initializer_list<const char*> allowed);

/// A parameter of an admin POST from the query string or the form body
/// (cpp-httplib leaves POST bodies to decode_body: api_server.cpp);
/// nullopt when absent. Given twice (in the query, or in both) or not as a
/// string is a 400: which one counts is not for the server to guess.
std::variant<std::optional<std::string>, api_error>
request_param(const httplib::Request& req, const char* name);

/// First top-level parameter not in `allowed`, as an error.
std::optional<api_error> reject_unknown(const nlohmann::json& params,
                                        std::initializer_list<const char*> allowed);

/// A 400 for the first of `keys` present as anything but a string (a
/// bracketed `url[x]=` decodes to an object).
std::optional<api_error>
reject_non_strings(const nlohmann::json& params,
                   std::initializer_list<const char*> keys);

/// A 400 unless `payment_method_types`, when given, lists only `card`
/// (the one type we take), so `ideal` is refused instead of ignored.
std::optional<api_error> reject_non_card_types(const nlohmann::json& params);

/// A string parameter ("" when absent); a non-string value is an error.
std::variant<std::string, api_error> string_param(const nlohmann::json& params,
                                                  const std::string& path,
                                                  const std::string& key);

/// Strict non-negative integer parsing ("12" yes; "1.5", "-1", "" no).
std::optional<int64_t> parse_count(const std::string& text);

/// A Redis HGETALL reply as fields; empty when the key does not exist.
render::fields to_fields(const redis::value& reply);

/// A merchant's own object: the hash at `key`; a 404 naming `object_name`
/// and `id` when it is missing or another merchant's (no difference is
/// visible), a 503 "Reading <reading>" when Redis cannot be read.
std::variant<render::fields, api_error>
read_owned(api_context& ctx, const merchant_info& merchant,
           const std::string& key, const std::string& object_name,
           const std::string& id, const std::string& reading);

/// The objects of a list page: every id's hash read in one pipeline and
/// rendered in page order; ids whose hash is gone are skipped. nullopt when
/// Redis failed.
std::optional<nlohmann::json>
render_rows(redis::connection& conn, const std::vector<std::string>& ids,
            const std::function<std::string(const std::string&)>& key_of,
            const std::function<nlohmann::json(const std::string&,
                                               render::fields&)>& render);

/// `create`: the metadata of a new object (empty values are not stored).
/// `update`: changes to an object's metadata, merged in by the step that
/// applies them: an empty value unsets its key, and `metadata=` (all
/// cleared) is the string "clear".
enum class metadata_use { create, update };

/// Metadata: at most 50 keys, key <= 40 chars, value <= 500 chars; as JSON.
std::variant<std::string, api_error>
metadata_param(const nlohmann::json& params,
               metadata_use use = metadata_use::create);

} // namespace psp::http
