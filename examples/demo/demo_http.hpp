// HTTP helpers shared by the demo's steps: a configured client, and pure
// functions that pick things out of replies.
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>

namespace demo {

/// Every request the demo makes is bounded by this.
constexpr int http_timeout_s = 10;

/// A keep-alive client with TCP_NODELAY and 10 s timeouts; no redirects are
/// followed, so the demo can read each Location itself.
std::unique_ptr<httplib::Client> make_client(const std::string& base_url);

/// "http://h:p/pay/cs_1?x" → "/pay/cs_1?x"; a bare path is returned as is.
std::string path_of(const std::string& url);

/// The checkout session id in a hosted-page URL (".../pay/<id>"), or "".
std::string session_id_of(const std::string& url);

/// The value of `<input ... name="nonce" value="...">`, or "".
std::string extract_nonce(const std::string& html);

/// GETs a JSON document; nullopt on a network error, non-200 or bad JSON.
std::optional<nlohmann::json> get_json(httplib::Client& client,
                                       const std::string& path);

/// A string member of an object, or "" when absent or not a string.
std::string string_at(const nlohmann::json& doc, const char* key);

/// "cs_test_a1b2c3d4e5f6" → "cs_test_a1b2c3..": short enough for a table.
std::string shorten_id(const std::string& id);

/// Text for a failed request: the status code or the network error.
std::string describe(const httplib::Result& res);

} // namespace demo
