#include "adapters/http/object_ids.hpp"
#include "adapters/http/payment_intent_request.hpp"
#include "adapters/http/payment_methods.hpp"
#include "adapters/http/payment_submission.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/http/routes.hpp"

#include "actors/clock.hpp"
#include "adapters/redis/archive_store.hpp"
#include "adapters/redis/keys.hpp"

#include <httplib.h>

#include <array>
#include <vector>

namespace psp::http {

namespace {

using render::card_keys;

std::optional<found_payment_method>
found(const std::string& id, const std::array<std::string, 5>& values,
      std::string intent_id, std::string billing_details = {}) {
  render::fields f{{"id", id}, {"billing_details", std::move(billing_details)}};
  for (size_t i = 0; i < card_keys.size(); ++i) {
    f[card_keys[i]] = values[i];
  }
  return found_payment_method{render::payment_method(f), std::move(intent_id)};
}

} // namespace

std::variant<std::optional<found_payment_method>, api_error>
find_payment_method(api_context& ctx, const std::string& id) {
  auto [year, month] = utc_year_month();
  if (auto card = test_payment_method(id, year)) {
    return found(id,
                 {std::string{codec::to_string(card->brand)}, card->last4,
                  std::to_string(card->exp_month),
                  std::to_string(card->exp_year), std::to_string(unix_now_s())},
                 "");
  }
  auto attempt_id = attempt_of_payment_method(id);
  if (attempt_id.empty()) {
    return std::optional<found_payment_method>{};
  }
  std::vector<std::string> cmd{"HMGET", keys::attempt(attempt_id), "intent"};
  cmd.insert(cmd.end(), card_keys.begin(), card_keys.end());
  cmd.emplace_back("billing_details");
  auto conn = ctx.redis.acquire();
  auto replies = redis::query_fields(*conn, {cmd}); // maybe archived
  conn.reset();
  auto* reply = replies ? &replies->front() : nullptr;
  if (reply == nullptr || !reply->is_array()
      || reply->elements.size() != card_keys.size() + 2) {
    return unavailable("Reading payment methods");
  }
  auto& v = reply->elements;
  // Only an attempt that carried a typed card (it has an expiry) is one.
  if (v[0].is_nil() || v[3].is_nil()) {
    return std::optional<found_payment_method>{};
  }
  std::array<std::string, 5> values;
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = v[i + 1].text();
  }
  auto& billing_details = v[card_keys.size() + 1];
  return found(id, values, v[0].text(),
               billing_details.is_nil() ? "" : billing_details.text());
}

api_error explain_spent_card(api_context& ctx, const merchant_info& merchant,
                             const nlohmann::json& params, api_error err) {
  auto pm = params.find("payment_method");
  if (err.param != "payment_method" || err.code != "resource_missing"
      || pm == params.end() || !pm->is_string()) {
    return err;
  }
  auto found = find_payment_method(ctx, pm->get<std::string>());
  auto* card = std::get_if<std::optional<found_payment_method>>(&found);
  if (card == nullptr || !card->has_value() || (*card)->intent_id.empty()) {
    return err;
  }
  auto owned = read_owned(ctx, merchant, keys::intent((*card)->intent_id),
                          "payment_method", pm->get<std::string>(),
                          "payment methods");
  if (std::holds_alternative<api_error>(owned)) {
    return err; // another merchant's card: as missing as an unknown one
  }
  return invalid_param("payment_method",
                       "This PaymentMethod was typed for an earlier payment "
                       "and cannot be used again: its card number is not "
                       "kept. Pass the card again as payment_method_data.");
}

namespace {

void retrieve_payment_method(api_context& ctx, const httplib::Request& req,
                             httplib::Response& res) {
  auto who = authenticate(ctx, req);
  if (auto* err = std::get_if<api_error>(&who)) {
    return write_error(res, *err);
  }
  const std::string id = req.matches[1];
  auto found = find_payment_method(ctx, id);
  if (auto* err = std::get_if<api_error>(&found)) {
    return write_error(res, *err);
  }
  auto& pm = std::get<std::optional<found_payment_method>>(found);
  if (!pm) {
    return write_error(res, not_found("payment_method", id));
  }
  if (!pm->intent_id.empty()) {
    // Another merchant's card answers exactly as a missing one.
    auto owned = read_owned(ctx, std::get<merchant_info>(who),
                            keys::intent(pm->intent_id), "payment_method", id,
                            "payment methods");
    if (auto* err = std::get_if<api_error>(&owned)) {
      return write_error(res, *err);
    }
  }
  write_json(res, pm->object.dump());
}

} // namespace

void add_payment_method_routes(httplib::Server& srv, api_context& ctx) {
  srv.Get("/v1/payment_methods/([A-Za-z0-9_]+)",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            retrieve_payment_method(ctx, req, res);
          });
}

} // namespace psp::http
