// Goal: payment intent parameters are checked as Stripe checks them, test
// payment methods resolve to their cards, and typed card details are
// validated without ever being echoed in an error.

#include "adapters/http/payment_intent_request.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace psp::http {
namespace {

using json = nlohmann::json;

std::variant<payment_intent_request, api_error> parse(const json& params) {
  return parse_payment_intent_request(params, 2026, 11);
}

std::string param_of(const std::variant<payment_intent_request, api_error>& r) {
  auto* err = std::get_if<api_error>(&r);
  return err == nullptr ? "<ok>" : err->param;
}

TEST(payment_intent_request, minimal_create) {
  auto r = parse({{"amount", "1500"}, {"currency", "usd"}});
  ASSERT_TRUE(std::holds_alternative<payment_intent_request>(r));
  auto& in = std::get<payment_intent_request>(r);
  EXPECT_EQ(in.amount_minor, 1500);
  EXPECT_EQ(in.capture_method, "automatic");
  EXPECT_FALSE(in.confirm);
  EXPECT_FALSE(in.payment_method);
}

TEST(payment_intent_request, amount_errors_carry_stripes_codes) {
  for (auto [amount, code] :
       {std::pair{"1.5", "parameter_invalid_integer"},
        std::pair{"abc", "parameter_invalid_integer"},
        std::pair{"-50", "parameter_invalid_integer"},
        std::pair{"49", "amount_too_small"},
        std::pair{"100000000", "amount_too_large"}}) {
    auto r = parse({{"amount", amount}, {"currency", "usd"}});
    auto* err = std::get_if<api_error>(&r);
    ASSERT_NE(err, nullptr) << amount;
    EXPECT_EQ(err->code, code) << amount;
    EXPECT_EQ(err->param, "amount") << amount;
  }
}

TEST(payment_intent_request, rejects_each_bad_parameter_by_name) {
  EXPECT_EQ(param_of(parse({{"currency", "usd"}})), "amount");
  EXPECT_EQ(param_of(parse({{"amount", "49"}, {"currency", "usd"}})), "amount");
  EXPECT_EQ(param_of(parse({{"amount", "1.5"}, {"currency", "usd"}})), "amount");
  EXPECT_EQ(param_of(parse({{"amount", "100"}, {"currency", "usdx"}})),
            "currency");
  auto empty = parse({{"amount", "100"}, {"currency", ""}});
  ASSERT_TRUE(std::holds_alternative<api_error>(empty));
  EXPECT_EQ(std::get<api_error>(empty).code, "parameter_missing");
  EXPECT_EQ(param_of(parse({{"amount", "100"}, {"currency", "usd"},
                            {"capture_method", "later"}})),
            "capture_method");
  EXPECT_EQ(param_of(parse({{"amount", "100"}, {"currency", "usd"},
                            {"confirm", "yes"}})),
            "confirm");
  EXPECT_EQ(param_of(parse({{"amount", "100"}, {"currency", "usd"},
                            {"shipping", "x"}})),
            "shipping");
  EXPECT_EQ(param_of(parse({{"amount", "100"}, {"currency", "usd"},
                            {"confirm", "true"}})),
            "payment_method");
  EXPECT_EQ(param_of(parse({{"amount", "100"}, {"currency", "usd"},
                            {"payment_method_types", json::array({"sepa"})}})),
            "payment_method_types");
}

TEST(payment_intent_request, receipt_email_must_look_like_an_address) {
  json p{{"amount", "100"}, {"currency", "usd"}};
  for (auto* bad : {"notanemail", "@x.y", "a@", "a b@x.y", "a@b@c", "a@b",
                    "<a@b.com>", "a@b..com", "a@.com", "a@b.com.",
                    "a@b.com,c@d.com"}) {
    p["receipt_email"] = bad;
    EXPECT_EQ(param_of(parse(p)), "receipt_email") << bad;
  }
  p["receipt_email"] = std::string(243, 'a') + "@example.com"; // 255
  EXPECT_EQ(param_of(parse(p)), "receipt_email");
  p["receipt_email"] = "shopper@example.com";
  auto ok = parse(p);
  ASSERT_TRUE(std::holds_alternative<payment_intent_request>(ok));
  EXPECT_EQ(std::get<payment_intent_request>(ok).receipt_email,
            "shopper@example.com");
  p["receipt_email"] = "";
  EXPECT_EQ(param_of(parse(p)), "<ok>");
}

TEST(payment_intent_request, manual_capture_and_automatic_async) {
  auto r = parse({{"amount", "100"}, {"currency", "usd"},
                  {"capture_method", "manual"}});
  EXPECT_EQ(std::get<payment_intent_request>(r).capture_method, "manual");
  auto a = parse({{"amount", "100"}, {"currency", "usd"},
                  {"capture_method", "automatic_async"}});
  EXPECT_EQ(std::get<payment_intent_request>(a).capture_method, "automatic");
}

TEST(payment_intent_request, automatic_payment_methods_as_stripes_guides_send_them) {
  // Stripe's server-side guides send enabled=true on every create (the
  // API audit's first call was refused as an unknown parameter).
  json base = {{"amount", "2000"}, {"currency", "usd"}};
  auto with = [&](json apm) {
    auto p = base;
    p["automatic_payment_methods"] = std::move(apm);
    return parse(p);
  };
  auto on = with({{"enabled", "true"}});
  ASSERT_TRUE(std::holds_alternative<payment_intent_request>(on));
  EXPECT_EQ(std::get<payment_intent_request>(on).automatic_payment_methods,
            "always");
  auto never = with({{"enabled", "true"}, {"allow_redirects", "never"}});
  ASSERT_TRUE(std::holds_alternative<payment_intent_request>(never));
  EXPECT_EQ(std::get<payment_intent_request>(never).automatic_payment_methods,
            "never");
  auto off = with({{"enabled", "false"}});
  ASSERT_TRUE(std::holds_alternative<payment_intent_request>(off));
  EXPECT_EQ(std::get<payment_intent_request>(off).automatic_payment_methods,
            "");
  EXPECT_EQ(param_of(with({{"allow_redirects", "never"}})),
            "automatic_payment_methods[enabled]");
  EXPECT_EQ(param_of(with({{"enabled", "yes"}})),
            "automatic_payment_methods[enabled]");
  EXPECT_EQ(param_of(with({{"enabled", "true"}, {"allow_redirects", "x"}})),
            "automatic_payment_methods[allow_redirects]");
  EXPECT_EQ(param_of(with({{"enabled", "true"}, {"colour", "red"}})),
            "automatic_payment_methods[colour]");
  EXPECT_EQ(param_of(with("true")), "automatic_payment_methods");
  auto both = base;
  both["automatic_payment_methods"] = {{"enabled", "true"}};
  both["payment_method_types"] = json::array({"card"});
  EXPECT_EQ(param_of(parse(both)), "automatic_payment_methods");
}

TEST(payment_intent_request, test_payment_methods_resolve_to_their_cards) {
  auto visa = test_payment_method("pm_card_visa", 2026);
  ASSERT_TRUE(visa);
  EXPECT_EQ(visa->last4, "4242");
  EXPECT_EQ(visa->brand, codec::card_brand::visa);
  EXPECT_GT(visa->exp_year, 2026);
  auto declined = test_payment_method("pm_card_chargeDeclined", 2026);
  ASSERT_TRUE(declined);
  EXPECT_EQ(declined->last4, "0002");
  EXPECT_FALSE(test_payment_method("pm_card_unknown", 2026));
}

TEST(payment_intent_request, typed_card_is_checked_and_never_echoed) {
  json card{{"number", "4242424242424241"}, {"exp_month", "12"},
            {"exp_year", "2030"}, {"cvc", "123"}};
  json params{{"amount", "100"}, {"currency", "usd"}, {"confirm", "true"},
              {"payment_method_data", {{"type", "card"}, {"card", card}}}};
  auto r = parse(params);
  ASSERT_TRUE(std::holds_alternative<api_error>(r));
  auto& err = std::get<api_error>(r);
  EXPECT_EQ(err.status, 402);
  EXPECT_EQ(err.type, "card_error");
  EXPECT_EQ(err.code, "incorrect_number");
  EXPECT_EQ(err.message.find("4242424242424241"), std::string::npos);

  params["payment_method_data"]["card"]["number"] = "4242424242424242";
  auto ok = parse(params);
  ASSERT_TRUE(std::holds_alternative<payment_intent_request>(ok));
  auto& pm = *std::get<payment_intent_request>(ok).payment_method;
  // Named later, after the attempt that carries the card.
  EXPECT_EQ(pm.payment_method_id, "");
  EXPECT_EQ(pm.card.last4, "4242");
  EXPECT_EQ(pm.card.exp_year, 2030);
}

TEST(payment_intent_request, typed_card_without_confirm_is_refused) {
  json params{{"amount", "100"}, {"currency", "usd"},
              {"payment_method_data",
               {{"type", "card"},
                {"card", {{"number", "4242424242424242"}, {"exp_month", "1"},
                          {"exp_year", "2031"}}}}}};
  EXPECT_EQ(param_of(parse(params)), "payment_method_data");
}

TEST(payment_intent_request, cvc_is_optional_but_checked_when_given) {
  json card{{"number", "4242424242424242"}, {"exp_month", "12"},
            {"exp_year", "2030"}};
  json params{{"amount", "100"}, {"currency", "usd"}, {"confirm", "true"},
              {"payment_method_data", {{"type", "card"}, {"card", card}}}};
  auto ok = parse(params);
  ASSERT_TRUE(std::holds_alternative<payment_intent_request>(ok));
  EXPECT_TRUE(std::get<payment_intent_request>(ok).payment_method->card.cvc
                .empty());
  params["payment_method_data"]["card"]["cvc"] = "1";
  auto bad = parse(params);
  ASSERT_TRUE(std::holds_alternative<api_error>(bad));
  EXPECT_EQ(std::get<api_error>(bad).code, "invalid_cvc");
}

TEST(payment_intent_request, an_expiry_error_names_month_or_year) {
  json card{{"number", "4242424242424242"}, {"exp_month", "12"},
            {"exp_year", "2001"}};
  json params{{"amount", "100"}, {"currency", "usd"}, {"confirm", "true"},
              {"payment_method_data", {{"type", "card"}, {"card", card}}}};
  EXPECT_EQ(param_of(parse(params)), "payment_method_data[card][exp_year]");
  params["payment_method_data"]["card"]["exp_year"] = "2030";
  params["payment_method_data"]["card"]["exp_month"] = "13";
  EXPECT_EQ(param_of(parse(params)), "payment_method_data[card][exp_month]");
}

TEST(payment_intent_request, booleans) {
  EXPECT_EQ(parse_bool("true"), true);
  EXPECT_EQ(parse_bool("false"), false);
  EXPECT_FALSE(parse_bool("1"));
}

} // namespace
} // namespace psp::http
