#include "psp_client.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace store {

namespace {

constexpr const char* form_type = "application/x-www-form-urlencoded";

// Turns a reply into a parsed object or the PSP's error.
template <class T, class Parse>
psp_result<T> to_result(int status, const std::string& body, Parse parse,
                        const char* what) {
  psp_result<T> r;
  if (status == 0) {
    r.error.status = 0;
    r.error.type = "api_connection_error";
    r.error.message = body;
    return r;
  }
  if (status < 200 || status > 299) {
    r.error = parse_psp_error(status, body);
    return r;
  }
  r.value = parse(body);
  if (!r.value) {
    r.error.status = status;
    r.error.type = "api_error";
    r.error.message = std::string("the PSP sent an unreadable ") + what;
  }
  return r;
}

} // namespace

http_psp_client::http_psp_client(std::string base_url, std::string api_key)
    : base_url_(std::move(base_url)), api_key_(std::move(api_key)) {
  // nothing else: connections are opened lazily
}

http_psp_client::~http_psp_client() = default;

psp_result<webhook_endpoint>
http_psp_client::create_webhook_endpoint(const std::string& public_url) {
  auto reply = send(true, "/v1/webhook_endpoints",
                    encode_form(webhook_endpoint_form(public_url)), "");
  return to_result<webhook_endpoint>(
      reply.status, reply.body, parse_webhook_endpoint, "webhook endpoint");
}

psp_result<checkout_session>
http_psp_client::create_checkout_session(const checkout_request& req) {
  auto reply = send(true, "/v1/checkout/sessions",
                    encode_form(checkout_form(req)), req.idempotency_key);
  return to_result<checkout_session>(
      reply.status, reply.body, parse_checkout_session, "checkout session");
}

psp_result<bool> http_psp_client::endpoint_is_live(const std::string& id,
                                                   const std::string& url) {
  auto reply = send(false, "/v1/webhook_endpoints/" + form_encode(id), "", "");
  if (reply.status == 404) {
    return {false, {}};
  }
  return to_result<bool>(
      reply.status, reply.body,
      [&url](const std::string& body) -> std::optional<bool> {
        auto doc = nlohmann::json::parse(body, nullptr, false);
        if (!doc.is_object()) {
          return std::nullopt;
        }
        return doc.value("url", "") == url
               && doc.value("status", "") == "enabled";
      },
      "webhook endpoint");
}

int http_psp_client::remove_stale_webhook_endpoints(
    const std::string& public_url, const std::string& keep_id) {
  // A merchant has at most 16 endpoints: one page of 100 is all of them.
  auto listed = send(false, "/v1/webhook_endpoints?limit=100", "", "");
  auto doc = nlohmann::json::parse(listed.body, nullptr, false);
  if (listed.status != 200 || !doc.is_object() || !doc["data"].is_array()) {
    return 0;
  }
  int removed = 0;
  for (auto& ep : doc["data"]) {
    if (!ep.is_object()) {
      continue;
    }
    // Ours from an earlier run: at this URL, or marked by this store (a run
    // on another port, whose port may now belong to another process).
    bool ours = ep.value("url", "") == public_url + "/webhook"
                || (ep["description"].is_string()
                    && ep["description"].get<std::string>()
                         == store_endpoint_description);
    if (!ours || ep.value("id", "") == keep_id) {
      continue;
    }
    auto cli = std::make_unique<httplib::Client>(base_url_);
    cli->set_connection_timeout(psp_timeout_s);
    cli->set_read_timeout(psp_timeout_s);
    auto res = cli->Delete(("/v1/webhook_endpoints/" + ep.value("id", "")).c_str(),
                           {{"Authorization", "Bearer " + api_key_}});
    removed += (res && res->status == 200) ? 1 : 0;
  }
  return removed;
}

psp_result<checkout_session>
http_psp_client::retrieve_checkout_session(const std::string& session_id) {
  auto reply =
      send(false, "/v1/checkout/sessions/" + form_encode(session_id), "", "");
  return to_result<checkout_session>(
      reply.status, reply.body, parse_checkout_session, "checkout session");
}

http_psp_client::http_reply
http_psp_client::send(bool post, const std::string& path,
                      const std::string& form,
                      const std::string& idempotency_key) {
  httplib::Headers headers{{"Authorization", "Bearer " + api_key_}};
  if (!idempotency_key.empty()) {
    headers.emplace("Idempotency-Key", idempotency_key);
  }
  // A pooled keep-alive connection may have been closed by the PSP while
  // idle; such a failure earns one retry on a fresh connection. Repeating
  // the POST is safe: the create call carries an Idempotency-Key, and a
  // second webhook endpoint registration is harmless.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = false;
    auto client = acquire(reused);
    auto res = post ? client->Post(path, headers, form, form_type)
                    : client->Get(path, headers);
    if (res) {
      http_reply reply{res->status, res->body};
      release(std::move(client));
      return reply;
    }
    if (!reused || attempt == 1) {
      return {0, "could not reach the PSP at " + base_url_ + " (" +
                     httplib::to_string(res.error()) + " error)"};
    }
  }
  return {0, "unreachable"};
}

std::unique_ptr<httplib::Client> http_psp_client::acquire(bool& reused) {
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (!idle_.empty()) {
      auto client = std::move(idle_.back());
      idle_.pop_back();
      reused = true;
      return client;
    }
  }
  reused = false;
  auto client = std::make_unique<httplib::Client>(base_url_);
  client->set_tcp_nodelay(true);
  client->set_keep_alive(true);
  client->set_connection_timeout(psp_timeout_s, 0);
  client->set_read_timeout(psp_timeout_s, 0);
  client->set_write_timeout(psp_timeout_s, 0);
  return client;
}

void http_psp_client::release(std::unique_ptr<httplib::Client> client) {
  std::lock_guard<std::mutex> guard(mtx_);
  if (idle_.size() < psp_idle_connections_max) {
    idle_.push_back(std::move(client));
  }
}

} // namespace store
