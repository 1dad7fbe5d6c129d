// Checks that parse_checkout_request accepts valid Stripe-style checkout
// parameters (two- and zero-decimal currencies) and rejects every missing or
// invalid one with Stripe's error code and the exact `param`.

#include "adapters/http/checkout_request.hpp"
#include "adapters/http/hosted_page_html.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

using namespace psp::http;
using nlohmann::json;

namespace {

constexpr int64_t now_s = 1'700'000'000;
constexpr int64_t ttl_s = 86'400;

/// A line item as the form decoder produces it: every leaf a string.
json item(const std::string& currency = "usd",
          const std::string& unit_amount = "2000",
          const std::string& quantity = "1", const std::string& name = "Mug") {
  return {{"price_data",
           {{"currency", currency},
            {"unit_amount", unit_amount},
            {"product_data", {{"name", name}}}}},
          {"quantity", quantity}};
}

/// A valid create body; tests change single fields.
json valid() {
  return {{"mode", "payment"},
          {"success_url", "https://shop.example/ok"},
          {"line_items", json::array({item()})}};
}

checkout_request ok(const json& params) {
  auto result = parse_checkout_request(params, now_s, ttl_s);
  if (auto* err = std::get_if<api_error>(&result)) {
    ADD_FAILURE() << "rejected " << params.dump() << ": " << err->message
                  << " (param " << err->param << ")";
    return {};
  }
  return std::get<checkout_request>(result);
}

api_error fail(const json& params) {
  auto result = parse_checkout_request(params, now_s, ttl_s);
  if (std::holds_alternative<checkout_request>(result)) {
    ADD_FAILURE() << "accepted " << params.dump();
    return {};
  }
  auto err = std::get<api_error>(result);
  EXPECT_EQ(err.status, 400);
  EXPECT_EQ(err.type, "invalid_request_error");
  EXPECT_FALSE(err.message.empty());
  // Every message must be serialisable (write_error dumps it as JSON).
  EXPECT_NO_THROW((json{{"message", err.message}}.dump()));
  return err;
}

/// Expects a rejection naming `param` with Stripe's `code`.
void expect_error(const json& params, const std::string& param,
                  const std::string& code = "parameter_invalid") {
  auto err = fail(params);
  EXPECT_EQ(err.param, param) << params.dump() << ": " << err.message;
  EXPECT_EQ(err.code, code) << params.dump() << ": " << err.message;
}

json with_item(json params, size_t index, const json& li) {
  params["line_items"][index] = li;
  return params;
}

json with_price(const std::string& key, const json& value) {
  auto p = valid();
  p["line_items"][0]["price_data"][key] = value;
  return p;
}

std::string repeat(const std::string& unit, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += unit;
  }
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

// -- accepted -----------------------------------------------------------------

TEST(checkout_request, valid_request_is_parsed) {
  auto r = ok(valid());
  EXPECT_EQ(r.currency, "usd");
  EXPECT_EQ(r.amount_total_minor, 2000);
  EXPECT_EQ(r.success_url, "https://shop.example/ok");
  EXPECT_EQ(r.cancel_url, "");
  EXPECT_EQ(r.metadata_json, "{}");
  EXPECT_EQ(r.expires_at_s, now_s + ttl_s);
  EXPECT_EQ(json::parse(r.line_items_json),
            json::parse(R"([{"name":"Mug","unit_amount":2000,"quantity":1,
                            "amount_total":2000}])"));
}

TEST(checkout_request, a_payment_method_type_other_than_card_is_refused) {
  auto p = valid();
  p["payment_method_types"] = json::array({"card", "ideal"});
  EXPECT_EQ(fail(p).param, "payment_method_types");
}

TEST(checkout_request, every_optional_parameter_is_kept) {
  auto p = valid();
  p["cancel_url"] = "http://shop.example/cancel";
  p["client_reference_id"] = "ord_7";
  p["customer_email"] = "ada@example.com";
  p["metadata"] = {{"order", "7"}};
  p["expires_at"] = std::to_string(now_s + 3600);
  p["payment_method_types"] = json::array({"card"});
  p["expand"] = json::array({"payment_intent"});
  p["line_items"].push_back(item("usd", "350", "3", "Spoon"));
  auto r = ok(p);
  EXPECT_EQ(r.cancel_url, "http://shop.example/cancel");
  EXPECT_EQ(r.client_reference_id, "ord_7");
  EXPECT_EQ(r.customer_email, "ada@example.com");
  EXPECT_EQ(json::parse(r.metadata_json), json({{"order", "7"}}));
  EXPECT_EQ(r.expires_at_s, now_s + 3600);
  EXPECT_EQ(r.amount_total_minor, 2000 + 3 * 350);
  auto items = json::parse(r.line_items_json);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1]["amount_total"], 1050);
  EXPECT_EQ(items[1]["name"], "Spoon");
}

TEST(checkout_request, zero_decimal_currencies_are_accepted) {
  auto r = ok(with_item(valid(), 0, item("jpy", "1200")));
  EXPECT_EQ(r.currency, "jpy");
  EXPECT_EQ(r.amount_total_minor, 1200);
  EXPECT_EQ(ok(with_item(valid(), 0, item("krw", "50"))).amount_total_minor,
            50);
  for (auto code : {"eur", "gbp", "chf", "sek", "brl", "zar", "inr"}) {
    EXPECT_EQ(ok(with_item(valid(), 0, item(code))).currency, code);
  }
}

TEST(checkout_request, bounds_are_inclusive) {
  EXPECT_EQ(ok(with_item(valid(), 0, item("usd", "50"))).amount_total_minor,
            50);
  EXPECT_EQ(
      ok(with_item(valid(), 0, item("usd", "99999999"))).amount_total_minor,
      99'999'999);
  EXPECT_EQ(
      ok(with_item(valid(), 0, item("usd", "50", "999999"))).amount_total_minor,
      50 * 999'999);
  auto p = valid();
  p["expires_at"] = std::to_string(now_s + 1800);
  EXPECT_EQ(ok(p).expires_at_s, now_s + 1800);
  p["expires_at"] = std::to_string(now_s + 86'400);
  EXPECT_EQ(ok(p).expires_at_s, now_s + 86'400);
  p = valid();
  p["line_items"] = json::array();
  for (int i = 0; i < 100; ++i) {
    p["line_items"].push_back(item("usd", "1"));
  }
  EXPECT_EQ(ok(p).amount_total_minor, 100);
  p = valid();
  json md = json::object();
  for (int i = 0; i < 50; ++i) {
    md[std::to_string(i) + std::string(38, 'k')] = std::string(500, 'v');
  }
  p["metadata"] = md;
  EXPECT_EQ(json::parse(ok(p).metadata_json), md);
  p["metadata"] = "";
  EXPECT_EQ(ok(p).metadata_json, "{}");
  // An empty value unsets a key; a new object has none to unset.
  p["metadata"] = {{"kept", "1"}, {"unset", ""}};
  EXPECT_EQ(json::parse(ok(p).metadata_json), json({{"kept", "1"}}));
}

// -- rejected: top level ------------------------------------------------------

TEST(checkout_request, unknown_parameters_are_named) {
  auto p = valid();
  p["amount"] = "2000";
  expect_error(p, "amount", "parameter_unknown");
  expect_error(with_item(valid(), 0,
                         {{"price_data", item()["price_data"]},
                          {"quantity", "1"},
                          {"tax_rates", "x"}}),
               "line_items[0][tax_rates]", "parameter_unknown");
  auto err = fail(with_price("tax_behavior", "inclusive"));
  EXPECT_EQ(err.param, "line_items[0][price_data][tax_behavior]");
  EXPECT_EQ(err.code, "parameter_unknown");
  EXPECT_EQ(err.message, "Received unknown parameter: "
                         "line_items[0][price_data][tax_behavior]");
}

TEST(checkout_request, mode_is_required_and_must_be_payment) {
  auto p = valid();
  p.erase("mode");
  expect_error(p, "mode", "parameter_missing");
  p["mode"] = "";
  expect_error(p, "mode", "parameter_missing");
  for (auto bad : {"subscription", "setup", "Payment"}) {
    p["mode"] = bad;
    expect_error(p, "mode");
  }
  p["mode"] = {{"a", "payment"}};
  expect_error(p, "mode");
}

TEST(checkout_request, success_url_is_required_and_urls_must_be_http) {
  auto p = valid();
  p.erase("success_url");
  expect_error(p, "success_url", "parameter_missing");
  for (auto bad : {"ftp://x/y", "shop.example", "javascript:alert(1)"}) {
    p["success_url"] = bad;
    expect_error(p, "success_url");
  }
  p["success_url"] = "https://x/" + std::string(2048, 'a');
  expect_error(p, "success_url");
  p["success_url"] = json::array({"https://x/"});
  expect_error(p, "success_url");
  p = valid();
  p["cancel_url"] = "mailto:a@b";
  expect_error(p, "cancel_url");
  // A URL with no host would send the shopper nowhere after paying.
  for (auto bad : {"http://", "https:///ok", "http://x y/"}) {
    p = valid();
    p["success_url"] = bad;
    expect_error(p, "success_url");
    p = valid();
    p["cancel_url"] = bad;
    expect_error(p, "cancel_url");
  }
}

TEST(checkout_request, line_items_must_be_a_list_of_1_to_100_items) {
  auto p = valid();
  p.erase("line_items");
  expect_error(p, "line_items", "parameter_missing");
  p["line_items"] = "mug";
  expect_error(p, "line_items");
  p["line_items"] = json::array();
  expect_error(p, "line_items");
  p["line_items"] = {{"0", item()}};
  expect_error(p, "line_items");
  p["line_items"] = json::array();
  for (int i = 0; i < 101; ++i) {
    p["line_items"].push_back(item());
  }
  expect_error(p, "line_items");
}

// -- rejected: one line item --------------------------------------------------

TEST(checkout_request, line_item_shape) {
  expect_error(with_item(valid(), 0, "mug"), "line_items[0]");
  expect_error(with_item(valid(), 0, {{"price", "price_1"}, {"quantity", "1"}}),
               "line_items[0][price]");
  expect_error(with_item(valid(), 0, {{"quantity", "1"}}),
               "line_items[0][price_data]", "parameter_missing");
  expect_error(
      with_item(valid(), 0, {{"price_data", "2000"}, {"quantity", "1"}}),
      "line_items[0][price_data]");
  // The index is the failing item's, not the first one's.
  auto p = valid();
  p["line_items"].push_back(item());
  p["line_items"][1].erase("quantity");
  expect_error(p, "line_items[1][quantity]", "parameter_missing");
}

TEST(checkout_request, product_name_is_required_and_bounded) {
  auto p = valid();
  p["line_items"][0]["price_data"].erase("product_data");
  const std::string name = "line_items[0][price_data][product_data][name]";
  expect_error(p, name, "parameter_missing");
  expect_error(with_price("product_data", "Mug"), name, "parameter_missing");
  expect_error(with_price("product_data", json::object()), name,
               "parameter_missing");
  expect_error(with_item(valid(), 0, item("usd", "2000", "1", "")), name,
               "parameter_missing");
  expect_error(
      with_item(valid(), 0, item("usd", "2000", "1", std::string(251, 'n'))),
      name);
  // 250 characters, whatever their bytes.
  auto kanji = repeat("茶", 250);
  EXPECT_EQ(ok(with_item(valid(), 0, item("usd", "2000", "1", kanji)))
              .line_items_json.find(kanji) != std::string::npos,
            true);
  expect_error(with_item(valid(), 0, item("usd", "2000", "1", kanji + "茶")),
               name);
  expect_error(with_price("product_data", {{"name", {{"x", "y"}}}}), name);
}

TEST(checkout_request, unit_amount_must_be_a_bounded_non_negative_integer) {
  const std::string param = "line_items[0][price_data][unit_amount]";
  for (auto bad : {"12.5", "-1", "1e3", "abc", "", " 12", "0x10",
                   "9999999999999999999999"}) {
    SCOPED_TRACE(bad);
    expect_error(with_item(valid(), 0, item("usd", bad)), param,
                 "parameter_invalid_integer");
  }
  expect_error(with_item(valid(), 0, item("usd", "100000000")), param,
               "amount_too_large");
  expect_error(with_price("unit_amount", json::array({"1"})), param,
               "parameter_invalid_integer");
  auto p = valid();
  p["line_items"][0]["price_data"].erase("unit_amount");
  expect_error(p, param, "parameter_missing");
}

TEST(checkout_request, quantity_must_be_from_1_to_999999) {
  const std::string param = "line_items[0][quantity]";
  for (auto bad : {"0", "-1", "1.5", "two", "", "1000000"}) {
    SCOPED_TRACE(bad);
    expect_error(with_item(valid(), 0, item("usd", "2000", bad)), param);
  }
  // The message gives the range: a million is positive, just too many.
  auto too_many = fail(with_item(valid(), 0, item("usd", "2000", "1000000")));
  EXPECT_EQ(too_many.message, "Quantity must be an integer from 1 to 999999.");
  auto p = valid();
  p["line_items"][0]["quantity"] = {{"n", "1"}};
  expect_error(p, param);
  p["line_items"][0].erase("quantity");
  expect_error(p, param, "parameter_missing");
}

TEST(checkout_request, total_must_be_between_minimum_and_maximum) {
  // 50 minor units for every currency, zero-decimal ones included.
  expect_error(with_item(valid(), 0, item("usd", "49")), "line_items",
               "amount_too_small");
  expect_error(with_item(valid(), 0, item("jpy", "49")), "line_items",
               "amount_too_small");
  expect_error(with_item(valid(), 0, item("usd", "0")), "line_items",
               "amount_too_small");
  expect_error(with_item(valid(), 0, item("usd", "99999999", "2")),
               "line_items", "amount_too_large");
  auto p = valid();
  p["line_items"][0] = item("usd", "99999999");
  p["line_items"].push_back(item("usd", "1"));
  expect_error(p, "line_items", "amount_too_large");
}

// -- rejected: currency -------------------------------------------------------

TEST(checkout_request, unsupported_currencies_are_rejected_with_the_list) {
  const std::string param = "line_items[0][price_data][currency]";
  for (auto bad : {"xyz", "XYZ", "dollars", "u$d", "", "isk", "ISK"}) {
    SCOPED_TRACE(bad);
    auto err = fail(with_item(valid(), 0, item(bad)));
    EXPECT_EQ(err.param, param);
    EXPECT_EQ(err.code, "parameter_invalid");
    EXPECT_EQ(
        err.message.rfind("Invalid currency: " + std::string{bad} + ". ", 0),
        0u)
        << err.message;
    EXPECT_TRUE(contains(err.message, "currently supports these currencies: "
                                      "usd, aed, aud,"))
        << err.message;
    EXPECT_TRUE(contains(err.message, "jpy")) << err.message;
  }
  // A supported code in any case is taken, in lower case (as at Stripe).
  for (auto upper : {"USD", "Usd"}) {
    EXPECT_EQ(ok(with_item(valid(), 0, item(upper))).currency, "usd");
  }
  auto err = fail(with_item(valid(), 0, item(std::string(5000, 'x'))));
  EXPECT_EQ(err.param, param);
  EXPECT_LT(err.message.size(), 1000u);
  // A long multi-byte value is cut on a character boundary.
  std::string euros;
  for (int i = 0; i < 20; ++i) {
    euros += "\xe2\x82\xac";
  }
  EXPECT_EQ(fail(with_item(valid(), 0, item(euros))).param, param);
}

TEST(checkout_request, currency_is_required_and_a_string) {
  const std::string param = "line_items[0][price_data][currency]";
  auto p = valid();
  p["line_items"][0]["price_data"].erase("currency");
  expect_error(p, param, "parameter_missing");
  expect_error(with_price("currency", {{"code", "usd"}}), param);
}

TEST(checkout_request, all_line_items_share_one_currency) {
  auto p = valid();
  p["line_items"].push_back(item("eur"));
  auto err = fail(p);
  EXPECT_EQ(err.param, "line_items[1][price_data][currency]");
  EXPECT_EQ(err.code, "parameter_invalid");
  EXPECT_TRUE(contains(err.message, "same currency")) << err.message;
  // An unsupported second currency is reported as unsupported.
  p["line_items"][1] = item("xyz");
  err = fail(p);
  EXPECT_EQ(err.param, "line_items[1][price_data][currency]");
  EXPECT_TRUE(contains(err.message, "Invalid currency: xyz")) << err.message;
}

// -- rejected: the rest -------------------------------------------------------

TEST(checkout_request, metadata_limits) {
  auto p = valid();
  json md = json::object();
  for (int i = 0; i < 51; ++i) {
    md["k" + std::to_string(i)] = "v";
  }
  p["metadata"] = md;
  expect_error(p, "metadata");
  p["metadata"] = {{std::string(41, 'k'), "v"}};
  expect_error(p, "metadata[" + std::string(41, 'k') + "]");
  p["metadata"] = {{"order", std::string(501, 'v')}};
  expect_error(p, "metadata[order]");
  // Limits count characters: 40 and 500 of them in any script.
  auto key40 = repeat("é", 40);  // 80 bytes
  auto value500 = repeat("€", 500); // 1,500 bytes
  p["metadata"] = {{key40, value500}};
  EXPECT_EQ(json::parse(ok(p).metadata_json), json({{key40, value500}}));
  p["metadata"] = {{key40 + "é", "v"}};
  expect_error(p, "metadata[" + key40 + "é]");
  p["metadata"] = {{"order", value500 + "€"}};
  expect_error(p, "metadata[order]");
  p["metadata"] = {{"order", {{"nested", "1"}}}};
  expect_error(p, "metadata[order]");
  p["metadata"] = "order=7";
  expect_error(p, "metadata");
}

TEST(checkout_request, reference_and_email) {
  auto p = valid();
  p["client_reference_id"] = std::string(201, 'r');
  expect_error(p, "client_reference_id");
  p["client_reference_id"] = repeat("注", 200); // 600 bytes, 200 characters
  EXPECT_EQ(ok(p).client_reference_id, repeat("注", 200));
  p["client_reference_id"] = {{"a", "b"}};
  expect_error(p, "client_reference_id");
  p = valid();
  for (auto bad : {"ada.example.com", "@", "a@b@c.d", "ada@example"}) {
    p["customer_email"] = bad;
    expect_error(p, "customer_email");
  }
  p["customer_email"] = json::array({"a@b"});
  expect_error(p, "customer_email");
}

TEST(checkout_request, expires_at_must_be_30_minutes_to_24_hours_ahead) {
  auto p = valid();
  for (auto at : {now_s + 1799, now_s + 86'401, now_s, now_s - 10}) {
    SCOPED_TRACE(at);
    p["expires_at"] = std::to_string(at);
    expect_error(p, "expires_at");
  }
  for (auto bad : {"soon", "", "-1", "1.5e9"}) {
    SCOPED_TRACE(bad);
    p["expires_at"] = bad;
    expect_error(p, "expires_at");
  }
  p["expires_at"] = {{"at", std::to_string(now_s + 3600)}};
  expect_error(p, "expires_at");
}

// -- what the hosted page shows -----------------------------------------------

TEST(checkout_request, hosted_page_shows_amounts_in_the_currency_s_decimals) {
  auto render = [](const checkout_request& r) {
    psp::render::fields cs{
        {"merchant_name", "Shop"},
        {"amount_total", std::to_string(r.amount_total_minor)},
        {"currency", r.currency},
        {"line_items", r.line_items_json},
        {"status", "open"}};
    return payment_form_page(cs, "nonce", {}, "", "");
  };
  auto yen = render(ok(with_item(valid(), 0, item("jpy", "1200"))));
  EXPECT_TRUE(contains(yen, "1,200 JPY")) << yen;
  EXPECT_FALSE(contains(yen, "12.00")) << yen;
  auto dollars = render(ok(with_item(valid(), 0, item("usd", "2005"))));
  EXPECT_TRUE(contains(dollars, "20.05 USD")) << dollars;
  // Thousands grouped in the integer part only.
  auto more = render(ok(with_item(valid(), 0, item("usd", "99999999"))));
  EXPECT_TRUE(contains(more, "999,999.99 USD")) << more;
  auto hundred = render(ok(with_item(valid(), 0, item("jpy", "100"))));
  EXPECT_TRUE(contains(hundred, ">100 JPY<")) << hundred;
}
