// The few PSP calls the benchmark makes, over keep-alive cpp-httplib clients
// with TCP_NODELAY (without it every request waits out a delayed ACK).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace httplib {
class Client;
}

namespace bench {

/// A keep-alive client for `base_url` ("http://host:port"); 10 s timeouts,
/// redirects not followed (the hosted page answers a confirm with 303).
std::unique_ptr<httplib::Client> make_client(const std::string& base_url);

struct call_result {
  bool ok = false;
  int status = 0;    ///< HTTP status; 0 when there was no answer
  std::string error; ///< why not ok
};

/// A checkout session the benchmark created (any node serves its page).
struct session_ref {
  std::string session_id;
  std::string intent_id;
};

/// application/x-www-form-urlencoded escaping of one value.
std::string form_escape(std::string_view text);

/// The body of every benchmark checkout: one line item of 20.00 USD. Also
/// what examples/bench/wrk_bench.lua sends.
std::string checkout_body();

/// The hosted page's card form, paying with 4242 4242 4242 4242.
std::string confirm_body(const std::string& nonce);

/// POST /v1/checkout/sessions with an Idempotency-Key; expects 200.
call_result create_session(httplib::Client& cli, const std::string& api_key,
                           const std::string& idempotency_key,
                           session_ref& out);

/// POST /pay/<session> with the card form; expects 303 (to the status page).
call_result confirm_payment(httplib::Client& cli, const std::string& session_id,
                            const std::string& nonce);

struct endpoint_info {
  std::string id;
  std::string secret; ///< whsec_..., shown only when created
};

/// POST /v1/webhook_endpoints subscribed to payment_intent.succeeded.
call_result create_endpoint(httplib::Client& cli, const std::string& api_key,
                            const std::string& url, endpoint_info& out);

/// DELETE /v1/webhook_endpoints/<id>.
call_result delete_endpoint(httplib::Client& cli, const std::string& api_key,
                            const std::string& id);

} // namespace bench
