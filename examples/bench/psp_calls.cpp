#include "psp_calls.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cctype>

namespace bench {

namespace {

constexpr const char* form_type = "application/x-www-form-urlencoded";

httplib::Headers auth(const std::string& api_key) {
  return {{"Authorization", "Bearer " + api_key}};
}

call_result answer(const httplib::Result& res, int expected) {
  call_result out;
  if (!res) {
    out.error = "no answer: " + httplib::to_string(res.error());
    return out;
  }
  out.status = res->status;
  out.ok = res->status == expected;
  if (!out.ok) {
    out.error = "HTTP " + std::to_string(res->status) + ": "
                + res->body.substr(0, 200);
  }
  return out;
}

} // namespace

std::unique_ptr<httplib::Client> make_client(const std::string& base_url) {
  auto cli = std::make_unique<httplib::Client>(base_url);
  cli->set_tcp_nodelay(true);
  cli->set_keep_alive(true);
  cli->set_follow_location(false);
  cli->set_connection_timeout(10, 0);
  cli->set_read_timeout(10, 0);
  cli->set_write_timeout(10, 0);
  return cli;
}

std::string form_escape(std::string_view text) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 0x0f];
    }
  }
  return out;
}

std::string checkout_body() {
  return "mode=payment&success_url=" + form_escape("http://127.0.0.1/ok")
         + "&line_items[0][price_data][currency]=usd"
           "&line_items[0][price_data][unit_amount]=2000"
           "&line_items[0][price_data][product_data][name]=Bench"
           "&line_items[0][quantity]=1";
}

std::string confirm_body(const std::string& nonce) {
  return "nonce=" + form_escape(nonce)
         + "&name=x&number=4242424242424242&exp=12%2F30&cvc=123";
}

call_result create_session(httplib::Client& cli, const std::string& api_key,
                           const std::string& idempotency_key,
                           session_ref& out) {
  auto headers = auth(api_key);
  headers.emplace("Idempotency-Key", idempotency_key);
  auto res = cli.Post("/v1/checkout/sessions", headers, checkout_body(),
                      form_type);
  auto r = answer(res, 200);
  if (!r.ok) {
    return r;
  }
  auto body = nlohmann::json::parse(res->body, nullptr, false);
  if (!body.is_object() || !body["id"].is_string()
      || !body["payment_intent"].is_string()) {
    r.ok = false;
    r.error = "checkout session without id or payment_intent";
    return r;
  }
  out.session_id = body["id"].get<std::string>();
  out.intent_id = body["payment_intent"].get<std::string>();
  return r;
}

call_result confirm_payment(httplib::Client& cli, const std::string& session_id,
                            const std::string& nonce) {
  auto res = cli.Post("/pay/" + session_id, confirm_body(nonce), form_type);
  return answer(res, 303);
}

call_result create_endpoint(httplib::Client& cli, const std::string& api_key,
                            const std::string& url, endpoint_info& out) {
  auto body = "url=" + form_escape(url)
              + "&enabled_events[0]=payment_intent.succeeded";
  auto res = cli.Post("/v1/webhook_endpoints", auth(api_key), body, form_type);
  auto r = answer(res, 200);
  if (!r.ok) {
    return r;
  }
  auto json = nlohmann::json::parse(res->body, nullptr, false);
  if (!json.is_object() || !json["id"].is_string()
      || !json["secret"].is_string()) {
    r.ok = false;
    r.error = "webhook endpoint without id or secret";
    return r;
  }
  out.id = json["id"].get<std::string>();
  out.secret = json["secret"].get<std::string>();
  return r;
}

call_result delete_endpoint(httplib::Client& cli, const std::string& api_key,
                            const std::string& id) {
  auto res = cli.Delete("/v1/webhook_endpoints/" + id, auth(api_key));
  return answer(res, 200);
}

} // namespace bench
