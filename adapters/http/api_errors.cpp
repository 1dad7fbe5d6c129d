#include "adapters/http/api_errors.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <string_view>
#include <utility>

namespace psp::http {

api_error invalid_param(std::string param, std::string message) {
  api_error e;
  e.message = std::move(message);
  e.param = std::move(param);
  e.code = "parameter_invalid";
  return e;
}

api_error invalid_integer(std::string param, std::string message) {
  auto e = invalid_param(std::move(param), std::move(message));
  e.code = "parameter_invalid_integer";
  return e;
}

api_error amount_too_large(std::string param, std::string message) {
  auto e = invalid_param(std::move(param), std::move(message));
  e.code = "amount_too_large";
  return e;
}

api_error card_number_in(const std::string& param, const std::string& hint) {
  return invalid_param(param, "Invalid " + param + ": it reads as a card "
                                "number, which belongs in "
                                "payment_method_data[card][number]"
                                + (hint.empty() ? "." : " " + hint));
}

api_error missing_param(const std::string& param) {
  api_error e;
  e.message = "Missing required param: " + param + ".";
  e.param = param;
  e.code = "parameter_missing";
  return e;
}

api_error unknown_param(const std::string& param) {
  api_error e;
  e.message = "Received unknown parameter: " + param;
  e.param = param;
  e.code = "parameter_unknown";
  return e;
}

api_error not_found(const std::string& what, const std::string& id) {
  api_error e;
  e.status = 404;
  e.message = "No such " + what + ": '" + id + "'";
  e.param = "id";
  e.code = "resource_missing";
  return e;
}

std::optional<api_error> missing_object_error(const std::string& method,
                                              const std::string& path) {
  // The routes that take an id, as (method, prefix, what follows the id).
  struct id_route {
    const char* method;
    const char* prefix;
    const char* object;
    const char* suffix;
  };
  static const id_route routes[] = {
    {"GET", "/v1/checkout/sessions/", "checkout.session", ""},
    {"POST", "/v1/checkout/sessions/", "checkout.session", "/expire"},
    {"GET", "/v1/payment_intents/", "payment_intent", ""},
    {"POST", "/v1/payment_intents/", "payment_intent", "/confirm"},
    {"POST", "/v1/payment_intents/", "payment_intent", "/capture"},
    {"POST", "/v1/payment_intents/", "payment_intent", "/cancel"},
    {"GET", "/v1/payment_methods/", "payment_method", ""},
    {"GET", "/v1/balance_transactions/", "balance_transaction", ""},
    {"GET", "/v1/webhook_endpoints/", "webhook_endpoint", ""},
    {"POST", "/v1/webhook_endpoints/", "webhook_endpoint", ""},
    {"DELETE", "/v1/webhook_endpoints/", "webhook_endpoint", ""},
    {"GET", "/v1/refunds/", "refund", ""},
    {"GET", "/v1/charges/", "charge", ""},
    {"GET", "/v1/events/", "event", ""},
  };
  for (auto& r : routes) {
    std::string_view rest{path};
    if (method != r.method || rest.rfind(r.prefix, 0) != 0) {
      continue;
    }
    rest.remove_prefix(std::string_view{r.prefix}.size());
    auto slash = rest.find('/');
    auto id = rest.substr(0, slash);
    auto after = slash == std::string_view::npos ? std::string_view{}
                                                 : rest.substr(slash);
    // An id of our alphabet reached no route for another reason (a URL we
    // do not serve): that stays "Unrecognized".
    bool ours = id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "abcdefghijklmnopqrstuvwxyz0123456789_")
                == std::string_view::npos;
    if (after != r.suffix || id.empty() || ours) {
      continue;
    }
    return not_found(r.object, std::string{id});
  }
  return std::nullopt;
}

api_error unexpected_state(const std::string& what,
                           const std::string& status) {
  api_error e;
  e.message = "You cannot " + what + " this PaymentIntent because it has a "
              "status of " + status + ".";
  e.code = "payment_intent_unexpected_state";
  return e;
}

api_error session_owned_intent(const std::string& instead) {
  api_error e;
  e.message = "This PaymentIntent belongs to a Checkout Session; " + instead;
  e.code = "payment_intent_unexpected_state";
  return e;
}

api_error unavailable(const std::string& what) {
  api_error e;
  e.status = 503;
  e.type = "api_error";
  // Also answered to reads and admin calls: the key applies to a POST.
  e.message = what + ": temporarily unavailable; retry shortly (a POST "
                     "with the same Idempotency-Key runs at most once).";
  return e;
}

void write_error(httplib::Response& res, const api_error& err) {
  nlohmann::json body{{"type", err.type}, {"message", err.message}};
  if (!err.param.empty()) {
    body["param"] = err.param;
  }
  if (!err.code.empty()) {
    body["code"] = err.code;
  }
  if (!err.decline_code.empty()) {
    body["decline_code"] = err.decline_code;
  }
  for (auto [key, text] : {std::pair{"payment_intent", &err.payment_intent_json},
                           std::pair{"payment_method", &err.payment_method_json}}) {
    if (text->empty()) {
      continue;
    }
    auto object = nlohmann::json::parse(*text, nullptr, false);
    if (!object.is_discarded()) {
      body[key] = std::move(object);
    }
  }
  res.status = err.status;
  if (err.code == "idempotency_key_in_use") {
    // The first request with the key is still running, or its node died
    // mid-request and the claim lapses within seconds (the rolling-deploy
    // drill: a client that gave up after 2.5 s of these showed an error for
    // a payment that had gone through). stripe-node and stripe-python retry
    // a 409 anyway; these say so, and when, to every other client.
    res.set_header("Stripe-Should-Retry", "true");
    res.set_header("Retry-After", "1");
  }
  if (err.code == "lock_timeout" || err.status == 503) {
    // Stripe's clients retry a 429 only when told to (stripe-node's
    // _shouldRetry: this header, a 409 or a 5xx); another request on the
    // object is finishing, so a retry shortly is right. A 503 is retried
    // by them anyway; the header says so to clients that only read it.
    res.set_header("Stripe-Should-Retry", "true");
  }
  // Messages echo what the client sent (a key, a header): bytes that are
  // not UTF-8 become U+FFFD instead of an exception.
  res.set_content(nlohmann::json{{"error", body}}.dump(
                    -1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void write_unexpected_error(httplib::Response& res) {
  api_error e;
  e.status = 500;
  e.type = "api_error";
  e.message = "An unexpected error occurred.";
  res.headers.erase("Content-Type");
  write_error(res, e);
}

void write_json(httplib::Response& res, const std::string& body, int status) {
  res.status = status;
  res.set_content(body, "application/json");
}

} // namespace psp::http
