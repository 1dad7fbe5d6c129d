#include "demo_http.hpp"

namespace demo {

std::unique_ptr<httplib::Client> make_client(const std::string& base_url) {
  auto client = std::make_unique<httplib::Client>(base_url);
  client->set_tcp_nodelay(true);
  client->set_keep_alive(true);
  client->set_follow_location(false);
  client->set_connection_timeout(http_timeout_s, 0);
  client->set_read_timeout(http_timeout_s, 0);
  client->set_write_timeout(http_timeout_s, 0);
  return client;
}

std::string path_of(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) {
    return url;
  }
  auto slash = url.find('/', scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

std::string session_id_of(const std::string& url) {
  const std::string marker = "/pay/";
  auto at = url.find(marker);
  if (at == std::string::npos) {
    return "";
  }
  auto start = at + marker.size();
  auto end = url.find_first_of("/?#", start);
  return url.substr(start, end == std::string::npos ? end : end - start);
}

std::string extract_nonce(const std::string& html) {
  auto name_at = html.find("name=\"nonce\"");
  if (name_at == std::string::npos) {
    return "";
  }
  // The attributes may come in any order: search the whole <input> tag.
  auto tag_start = html.rfind('<', name_at);
  auto tag_end = html.find('>', name_at);
  if (tag_start == std::string::npos || tag_end == std::string::npos) {
    return "";
  }
  auto tag = html.substr(tag_start, tag_end - tag_start);
  const std::string value_attr = "value=\"";
  auto value_at = tag.find(value_attr);
  if (value_at == std::string::npos) {
    return "";
  }
  auto start = value_at + value_attr.size();
  auto end = tag.find('"', start);
  return end == std::string::npos ? "" : tag.substr(start, end - start);
}

std::optional<nlohmann::json> get_json(httplib::Client& client,
                                       const std::string& path) {
  auto res = client.Get(path);
  if (!res || res->status != 200) {
    return std::nullopt;
  }
  auto doc = nlohmann::json::parse(res->body, nullptr, false);
  if (doc.is_discarded()) {
    return std::nullopt;
  }
  return doc;
}

std::string string_at(const nlohmann::json& doc, const char* key) {
  if (!doc.is_object()) {
    return "";
  }
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string shorten_id(const std::string& id) {
  constexpr size_t keep = 14; // "cs_test_" plus six characters
  return id.size() <= keep + 2 ? id : id.substr(0, keep) + "..";
}

std::string describe(const httplib::Result& res) {
  if (!res) {
    return "network error: " + httplib::to_string(res.error());
  }
  return "HTTP " + std::to_string(res->status);
}

} // namespace demo
