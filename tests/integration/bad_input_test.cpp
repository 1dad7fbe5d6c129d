// Goal: every malformed, unauthenticated or foreign request to a real node
// gets the right status and a clear (Stripe-shaped or inline) error, and
// leaves nothing half-written in Redis.

#include "tests/support/raw_http.hpp"
#include "tests/support/stack_suite.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace psp::test {
namespace {

/// One stack for the whole suite: every test here only adds its own objects.
class bad_input : public stack_suite {
protected:
  /// A valid create body; tests drop or change single fields.
  static form_fields valid_session() {
    return {{"mode", "payment"},
            {"success_url", "https://shop.example/ok"},
            {"line_items[0][price_data][currency]", "usd"},
            {"line_items[0][price_data][unit_amount]", "2000"},
            {"line_items[0][price_data][product_data][name]", "Mug"},
            {"line_items[0][quantity]", "1"}};
  }

  static form_fields without(form_fields f, const std::string& key) {
    f.erase(std::remove_if(f.begin(), f.end(),
                           [&](auto& kv) { return kv.first == key; }),
            f.end());
    return f;
  }

  static form_fields with(form_fields f, const std::string& key,
                          const std::string& value) {
    f = without(std::move(f), key);
    f.emplace_back(key, value);
    return f;
  }

  /// Every key a create would write.
  std::set<std::string> written_keys() {
    std::set<std::string> out;
    for (auto pattern : {"cs:*", "pi:*", "pa:*"}) {
      for (auto& k : stack().redis_keys(pattern)) {
        out.insert(k);
      }
    }
    auto sessions = stack().redis_cmd(
        {"ZCARD", "merchant:" + stack().merchant().id + ":sessions"});
    out.insert("#sessions=" + std::to_string(sessions ? sessions->number : -1));
    return out;
  }

  /// Sends a create request and checks it is rejected with a Stripe error
  /// that names `param` (when given) and writes nothing.
  json expect_rejected_create(const http_request& req, int status,
                              const std::string& param,
                              const std::string& code = {}) {
    auto before = written_keys();
    auto res = http_call(stack().node_url(), req);
    EXPECT_EQ(res.status, status)
        << req.body.substr(0, 200) << " -> " << res.body << res.error;
    auto doc = res.body_json();
    EXPECT_TRUE(doc.is_object() && doc["error"].is_object()) << res.body;
    if (!doc.is_object() || !doc["error"].is_object()) {
      return nullptr;
    }
    auto& err = doc["error"];
    EXPECT_EQ(err.value("type", ""), "invalid_request_error") << res.body;
    EXPECT_FALSE(err.value("message", "").empty()) << res.body;
    if (!param.empty()) {
      EXPECT_EQ(err.value("param", ""), param) << res.body;
    }
    if (!code.empty()) {
      EXPECT_EQ(err.value("code", ""), code) << res.body;
    }
    EXPECT_EQ(res.header("Content-Type").rfind("application/json", 0), 0u);
    EXPECT_EQ(written_keys(), before) << "a rejected create wrote to Redis";
    return doc;
  }

  json expect_rejected_create(const form_fields& fields, int status,
                              const std::string& param,
                              const std::string& code = {}) {
    http_request req;
    req.method = "POST";
    req.path = "/v1/checkout/sessions";
    req.body = form_encode(fields);
    req.content_type = "application/x-www-form-urlencoded";
    req.bearer = stack().secret_key();
    return expect_rejected_create(req, status, param, code);
  }

};

const std::string amount_param = "line_items[0][price_data][unit_amount]";

TEST_F(bad_input, valid_create_is_accepted_as_a_baseline) {
  auto res = stack().api_post("/v1/checkout/sessions", valid_session());
  ASSERT_EQ(res.status, 200) << res.body;
  auto id = res.body_json().value("id", "");
  EXPECT_EQ(stack().redis_hash("cs:" + id)["status"], "open");
}

TEST_F(bad_input, malformed_form_body) {
  http_request req;
  req.method = "POST";
  req.path = "/v1/checkout/sessions";
  req.body = "a[b=1";
  req.content_type = "application/x-www-form-urlencoded";
  req.bearer = stack().secret_key();
  expect_rejected_create(req, 400, "", "parameter_invalid");
  // A name used both as a value and as a hash, and a repeated parameter.
  req.body = "mode=payment&metadata=&metadata[z]=9";
  expect_rejected_create(req, 400, "", "parameter_invalid");
  req.body = "mode=payment&mode=setup";
  expect_rejected_create(req, 400, "", "parameter_invalid");
}

TEST_F(bad_input, body_that_is_not_a_form) {
  http_request req;
  req.method = "POST";
  req.path = "/v1/checkout/sessions";
  req.body = R"({"mode":"payment"})";
  req.content_type = "application/json";
  req.bearer = stack().secret_key();
  expect_rejected_create(req, 400, "");
}

TEST_F(bad_input, missing_required_params) {
  expect_rejected_create(without(valid_session(), "mode"), 400, "mode",
                         "parameter_missing");
  expect_rejected_create(without(valid_session(), "success_url"), 400,
                         "success_url", "parameter_missing");
  auto no_items = valid_session();
  no_items.erase(std::remove_if(no_items.begin(), no_items.end(),
                                [](auto& kv) {
                                  return kv.first.rfind("line_items", 0) == 0;
                                }),
                 no_items.end());
  expect_rejected_create(no_items, 400, "line_items", "parameter_missing");
  expect_rejected_create(without(valid_session(), "line_items[0][quantity]"),
                         400, "line_items[0][quantity]", "parameter_missing");
}

TEST_F(bad_input, unknown_param) {
  expect_rejected_create(with(valid_session(), "colour", "red"), 400, "colour",
                         "parameter_unknown");
  expect_rejected_create(
      with(valid_session(), "line_items[0][price_data][tax]", "1"), 400,
      "line_items[0][price_data][tax]", "parameter_unknown");
}

TEST_F(bad_input, metadata_values_must_be_strings_and_keys_may_be_numbers) {
  auto nested = expect_rejected_create(
      with(valid_session(), "metadata[a][b]", "x"), 400, "metadata[a]",
      "parameter_invalid");
  EXPECT_NE(nested["error"].value("message", "").find("must be strings"),
            std::string::npos)
      << nested.dump();
  auto res = stack().api_post("/v1/checkout/sessions",
                              with(valid_session(), "metadata[0]", "first"));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.body_json()["metadata"], json({{"0", "first"}})) << res.body;
}

TEST_F(bad_input, bad_amounts) {
  // Stripe's codes: not a whole number, or above the maximum charge.
  for (auto bad : {"12.5", "-5", "1e3", "", "abc"}) {
    SCOPED_TRACE(bad);
    expect_rejected_create(with(valid_session(), amount_param, bad), 400,
                           amount_param, "parameter_invalid_integer");
  }
  expect_rejected_create(with(valid_session(), amount_param, "100000000"), 400,
                         amount_param, "amount_too_large");
  // Each item fits, the total does not.
  auto big = with(valid_session(), amount_param, "99999999");
  expect_rejected_create(with(big, "line_items[0][quantity]", "2"), 400,
                         "line_items", "amount_too_large");
  // Below the minimum charge: the code a PaymentIntent's amount gets.
  expect_rejected_create(with(valid_session(), amount_param, "10"), 400,
                         "line_items", "amount_too_small");
  expect_rejected_create(with(valid_session(), "line_items[0][quantity]", "0"),
                         400, "line_items[0][quantity]", "parameter_invalid");
}

TEST_F(bad_input, bad_currency) {
  const std::string param = "line_items[0][price_data][currency]";
  for (auto bad : {"dollars", "u$d", "", "US"}) {
    SCOPED_TRACE(bad);
    expect_rejected_create(with(valid_session(), param, bad), 400, param,
                           "parameter_invalid");
  }
  // Stripe takes a code in any case and answers it in lower case.
  auto upper = stack().api_post("/v1/checkout/sessions",
                                with(valid_session(), param, "USD"));
  ASSERT_EQ(upper.status, 200) << upper.body;
  EXPECT_EQ(upper.body_json().value("currency", ""), "usd");
  auto intent = stack().api_post("/v1/payment_intents",
                                 {{"amount", "700"}, {"currency", "EuR"}});
  ASSERT_EQ(intent.status, 200) << intent.body;
  EXPECT_EQ(intent.body_json().value("currency", ""), "eur");
}

TEST_F(bad_input, bad_urls_and_mode) {
  expect_rejected_create(with(valid_session(), "mode", "subscription"), 400,
                         "mode", "parameter_invalid");
  expect_rejected_create(with(valid_session(), "success_url", "ftp://x/y"), 400,
                         "success_url", "parameter_invalid");
  // No host: the shopper would be sent nowhere after paying.
  for (auto bad : {"http://", "https:///ok", "http://x y/ok"}) {
    SCOPED_TRACE(bad);
    expect_rejected_create(with(valid_session(), "success_url", bad), 400,
                           "success_url", "parameter_invalid");
    expect_rejected_create(with(valid_session(), "cancel_url", bad), 400,
                           "cancel_url", "parameter_invalid");
  }
  auto upper = stack().api_post(
    "/v1/checkout/sessions",
    with(valid_session(), "success_url", "HTTPS://Shop.Example/ok"));
  EXPECT_EQ(upper.status, 200) << "schemes ignore case: " << upper.body;
}

TEST_F(bad_input, webhook_endpoint_urls_must_have_a_host) {
  auto endpoints_before = stack().redis_keys("we:*").size();
  for (auto bad : {"http://", "http://x y", "https://:443/hook", "hooks.example"}) {
    SCOPED_TRACE(bad);
    auto res = stack().api_post("/v1/webhook_endpoints",
                                {{"url", bad}, {"enabled_events[]", "*"}});
    EXPECT_EQ(res.status, 400) << res.body;
    EXPECT_EQ(res.body_json()["error"].value("param", ""), "url") << res.body;
  }
  EXPECT_EQ(stack().redis_keys("we:*").size(), endpoints_before)
    << "a refused endpoint was written";
  auto twice = stack().api_post(
    "/v1/webhook_endpoints", {{"url", "https://hooks.example/psp"},
                              {"enabled_events[]", "*"},
                              {"enabled_events[]", "*"}});
  ASSERT_EQ(twice.status, 200) << twice.body;
  EXPECT_EQ(twice.body_json()["enabled_events"], json::array({"*"}));
  auto id = twice.body_json().value("id", "");
  auto update = stack().api_post("/v1/webhook_endpoints/" + id,
                                 {{"url", "http://"}});
  EXPECT_EQ(update.status, 400) << update.body;
  EXPECT_EQ(stack().api_post("/v1/webhook_endpoints/" + id, {{"url", ""}})
              .status,
            400);
  // Gone again, so the suite's other events are not sent to it.
  http_request del;
  del.method = "DELETE";
  del.path = "/v1/webhook_endpoints/" + id;
  del.bearer = stack().secret_key();
  EXPECT_EQ(http_call(stack().node_url(), del).status, 200);
}

TEST_F(bad_input, stripe_event_types_never_sent_are_accepted_others_refused) {
  // A store that follows Stripe's Checkout guide subscribes to the async
  // payment events too; they are never sent here, but refusing the whole
  // endpoint for them would stop its start-up.
  auto ok = stack().api_post(
    "/v1/webhook_endpoints",
    {{"url", "https://hooks.example/guide"},
     {"enabled_events[]", "checkout.session.completed"},
     {"enabled_events[]", "checkout.session.async_payment_succeeded"},
     {"enabled_events[]", "checkout.session.async_payment_failed"},
     {"enabled_events[]", "charge.succeeded"}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.body_json()["enabled_events"].size(), 4u) << ok.body;
  for (auto bad : {"checkout.session.nonsense", "charge", "customer.created"}) {
    SCOPED_TRACE(bad);
    auto res = stack().api_post(
      "/v1/webhook_endpoints",
      {{"url", "https://hooks.example/x"}, {"enabled_events[]", bad}});
    EXPECT_EQ(res.status, 400) << res.body;
    EXPECT_EQ(res.body_json()["error"].value("param", ""), "enabled_events");
  }
  form_fields too_many{{"url", "https://hooks.example/many"}};
  for (int i = 0; i < 65; ++i) {
    too_many.emplace_back("enabled_events[]", "*");
  }
  auto capped = stack().api_post("/v1/webhook_endpoints", too_many);
  EXPECT_EQ(capped.status, 400) << capped.body;
  EXPECT_NE(capped.body_json()["error"].value("message", "").find("at most 64"),
            std::string::npos)
    << "the message names the cap: " << capped.body;
  http_request del;
  del.method = "DELETE";
  del.path = "/v1/webhook_endpoints/" + ok.body_json().value("id", "");
  del.bearer = stack().secret_key();
  EXPECT_EQ(http_call(stack().node_url(), del).status, 200);
}

TEST_F(bad_input, webhook_endpoints_list_in_pages) {
  auto shop = stack().create_merchant("Endpoint Pages");
  std::vector<std::string> made; // oldest first
  for (int i = 0; i < 5; ++i) {
    auto r = stack().api_post(
      "/v1/webhook_endpoints",
      {{"url", "https://hooks.example/p" + std::to_string(i)},
       {"enabled_events[]", "refund.failed"}},
      0, shop.secret_key);
    ASSERT_EQ(r.status, 200) << r.body;
    made.push_back(r.body_json().value("id", ""));
  }
  auto list = [&](const std::string& query) {
    auto r = stack().api_get("/v1/webhook_endpoints" + query, 0,
                             shop.secret_key);
    EXPECT_EQ(r.status, 200) << r.body;
    auto body = r.body_json(); // kept: the loop reads into it
    std::vector<std::string> ids;
    for (auto& e : body["data"]) {
      ids.push_back(e.value("id", ""));
    }
    return std::make_pair(ids, body.value("has_more", false));
  };
  auto [all, all_more] = list("");
  ASSERT_EQ(all.size(), 5u);
  EXPECT_FALSE(all_more);
  auto [first, first_more] = list("?limit=2");
  EXPECT_EQ(first, (std::vector<std::string>{all[0], all[1]}));
  EXPECT_TRUE(first_more);
  auto [next, next_more] = list("?limit=2&starting_after=" + all[1]);
  EXPECT_EQ(next, (std::vector<std::string>{all[2], all[3]}));
  EXPECT_TRUE(next_more);
  auto [last, last_more] = list("?limit=2&starting_after=" + all[3]);
  EXPECT_EQ(last, (std::vector<std::string>{all[4]}));
  EXPECT_FALSE(last_more);
  auto [back, back_more] = list("?limit=2&ending_before=" + all[3]);
  EXPECT_EQ(back, (std::vector<std::string>{all[1], all[2]}));
  EXPECT_TRUE(back_more);
  auto unknown = stack().api_get("/v1/webhook_endpoints?starting_after=we_nope",
                                 0, shop.secret_key);
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_EQ(stack()
              .api_get("/v1/webhook_endpoints?limit=0", 0, shop.secret_key)
              .status,
            400);
}

TEST_F(bad_input, a_sessions_intent_is_neither_confirmed_nor_canceled_by_api) {
  auto cs = stack().create_session();
  auto pi = cs.value("payment_intent", "");
  ASSERT_FALSE(pi.empty()) << cs.dump();
  for (auto& [path, fields] :
       std::vector<std::pair<std::string, form_fields>>{
         {"/confirm", {{"payment_method", "pm_card_visa"}}}, {"/cancel", {}}}) {
    SCOPED_TRACE(path);
    auto res = stack().api_post("/v1/payment_intents/" + pi + path, fields);
    EXPECT_EQ(res.status, 400) << res.body;
    auto err = res.body_json()["error"];
    EXPECT_EQ(err.value("code", ""), "payment_intent_unexpected_state");
    EXPECT_FALSE(err.contains("param")) << "no parameter is wrong: " << err;
  }
  EXPECT_EQ(stack().redis_hash("pi:" + pi)["status"], "requires_payment_method");
}

TEST_F(bad_input, media_types_ignore_case) {
  http_request req;
  req.method = "POST";
  req.path = "/v1/checkout/sessions";
  req.body = form_encode(valid_session());
  req.content_type = "Application/X-WWW-Form-Urlencoded; charset=UTF-8";
  req.bearer = stack().secret_key();
  auto res = http_call(stack().node_url(), req);
  EXPECT_EQ(res.status, 200) << res.body;
}

TEST_F(bad_input, missing_or_wrong_api_key_is_401) {
  http_request req;
  req.method = "POST";
  req.path = "/v1/checkout/sessions";
  req.body = form_encode(valid_session());
  req.content_type = "application/x-www-form-urlencoded";
  auto doc = expect_rejected_create(req, 401, "");
  EXPECT_NE(doc["error"].value("message", "").find("API key"),
            std::string::npos);

  req.bearer = "sk_test_definitelyNotARealKey123";
  doc = expect_rejected_create(req, 401, "");
  auto message = doc["error"].value("message", "");
  EXPECT_NE(message.find("Invalid API Key"), std::string::npos);
  EXPECT_EQ(message.find("definitelyNotARealKey"), std::string::npos)
      << "the rejected key must not be echoed in full";
  // Logged as an invalid access attempt, the key as the answer shows it.
  EXPECT_TRUE(stack().wait_for_log(
    0, "event=auth_failed realm=api reason=unknown_key key=sk_test_****y123",
    5s));
  EXPECT_EQ(tail_file(stack().node_log(0), 5000).find("definitelyNotARealKey"),
            std::string::npos);

  req.bearer.clear();
  req.headers.emplace_back("Authorization", "Basic dXNlcjpwYXNz");
  expect_rejected_create(req, 401, "");

  EXPECT_EQ(http_get(stack().node_url(), "/v1/checkout/sessions").status, 401);
  EXPECT_EQ(
      http_get(stack().node_url(), "/v1/checkout/sessions", "sk_test_x").status,
      401);
}

TEST_F(bad_input, body_over_64_kib_is_413) {
  auto fields = valid_session();
  fields.emplace_back("metadata[note]", std::string(70 * 1024, 'x'));
  expect_rejected_create(fields, 413, "");
}

TEST_F(bad_input, a_card_number_in_the_wrong_place_is_not_echoed) {
  // The card fields never echo a number; an id, a key or an index might
  // (found by a security audit).
  for (auto& fields : std::vector<form_fields>{
         {{"amount", "500"}, {"currency", "usd"},
          {"payment_method", "4242424242424242"}},
         {{"amount", "500"}, {"currency", "usd"},
          {"payment_method_data[card][4242424242424242]", "1"}},
         {{"amount", "500"}, {"currency", "usd"},
          {"4242 4242 4242 4242", "1"}}}) {
    auto res = stack().api_post("/v1/payment_intents", fields);
    EXPECT_EQ(res.status, 400) << res.body;
    EXPECT_EQ(res.body.find("42424242"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find("4242"), std::string::npos)
      << "the last four stay, so the client can tell what it sent: "
      << res.body;
  }
}

TEST_F(bad_input, a_card_number_is_masked_in_compressed_errors_too) {
  // The card data audit: a client that accepted gzip or br (Python's
  // requests, browsers) got the number whole.
  for (const char* encoding : {"gzip", "br"}) {
    http_request req;
    req.path = "/v1/payment_intents/4242424242424242";
    req.bearer = stack().secret_key();
    req.headers = {{"Accept-Encoding", encoding}};
    auto res = http_call(stack().node_url(), req);
    EXPECT_EQ(res.status, 404) << encoding;
    EXPECT_EQ(res.header("Content-Encoding"), encoding)
      << "the answer was not compressed: this test would test nothing";
    ASSERT_TRUE(res.body_json().is_object())
      << "the client did not decompress: " << encoding;
    EXPECT_EQ(res.body.find("42424242"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find("4242"), std::string::npos) << res.body;
  }
}

TEST_F(bad_input, unknown_ids_are_404) {
  auto res = stack().api_get("/v1/checkout/sessions/cs_test_doesnotexist");
  EXPECT_EQ(res.status, 404) << res.body;
  auto err = res.body_json()["error"];
  EXPECT_EQ(err.value("type", ""), "invalid_request_error") << res.body;
  EXPECT_EQ(err.value("code", ""), "resource_missing") << res.body;
  EXPECT_EQ(err.value("param", ""), "id") << res.body;
  EXPECT_NE(err.value("message", "").find("cs_test_doesnotexist"),
            std::string::npos);

  res = stack().api_get("/v1/payment_intents/pi_doesnotexist");
  EXPECT_EQ(res.status, 404) << res.body;
  EXPECT_EQ(res.body_json()["error"].value("code", ""), "resource_missing");

  res = stack().api_get("/v1/no_such_resource");
  EXPECT_EQ(res.status, 404) << res.body;
  EXPECT_TRUE(res.body_json()["error"].is_object()) << res.body;
}

TEST_F(bad_input, another_merchants_objects_are_404) {
  auto other = stack().create_merchant("Other Shop");
  auto created = stack().api_post("/v1/checkout/sessions", valid_session(), 0,
                                  other.secret_key);
  ASSERT_EQ(created.status, 200) << created.body;
  auto cs = created.body_json().value("id", "");
  auto pi = created.body_json().value("payment_intent", "");

  EXPECT_EQ(stack()
                .api_get("/v1/checkout/sessions/" + cs, 0, other.secret_key)
                .status,
            200);
  auto res = stack().api_get("/v1/checkout/sessions/" + cs);
  EXPECT_EQ(res.status, 404) << res.body;
  EXPECT_EQ(res.body_json()["error"].value("code", ""), "resource_missing");
  res = stack().api_get("/v1/payment_intents/" + pi);
  EXPECT_EQ(res.status, 404) << res.body;

  // The list shows only the caller's own sessions.
  auto list = stack().api_get("/v1/checkout/sessions?limit=100").body_json();
  ASSERT_TRUE(list["data"].is_array()) << list.dump();
  for (auto& s : list["data"]) {
    EXPECT_NE(s.value("id", ""), cs);
  }
}

TEST_F(bad_input, hosted_page_rejects_bad_cards_inline_and_writes_nothing) {
  auto session = stack().create_session(1200);
  auto cs = session["id"].get<std::string>();
  auto pi = session["payment_intent"].get<std::string>();
  auto nonce = stack().page_nonce(cs);
  ASSERT_FALSE(nonce.empty());
  auto stream_before = stack().payment_stream_len();
  auto attempts_before = stack().redis_keys("pa:*").size();

  struct bad_card {
    card_input card;
    std::string field;
    std::string text;
  };
  std::vector<bad_card> cases;
  cases.push_back({{}, "number", "Your card number is incorrect."});
  cases.back().card.number = "4242424242424241"; // fails Luhn
  cases.push_back({{}, "number", "Your card number is invalid."});
  cases.back().card.number = "4242";
  cases.push_back({{}, "exp", "expiration date is in the past"});
  cases.back().card.exp = "01/20";
  cases.push_back({{}, "exp", "expiration month is invalid"});
  cases.back().card.exp = "13/30";
  cases.push_back({{}, "cvc", "security code is invalid"});
  cases.back().card.cvc = "12";
  for (auto& c : cases) {
    SCOPED_TRACE(c.card.number + " " + c.card.exp + " " + c.card.cvc);
    auto res = stack().pay(cs, c.card, 0, nonce);
    EXPECT_EQ(res.status, 422) << res.body;
    EXPECT_NE(res.header("Content-Type").find("text/html"), std::string::npos);
    EXPECT_NE(res.body.find("id=\"error-" + c.field + "\""), std::string::npos)
        << res.body;
    EXPECT_NE(res.body.find(c.text), std::string::npos) << res.body;
    // The form comes back with the same nonce: still one submission.
    EXPECT_NE(res.body.find("value=\"" + nonce + "\""), std::string::npos);
    EXPECT_EQ(stack().redis_keys("pa:*").size(), attempts_before);
    EXPECT_EQ(stack().payment_stream_len(), stream_before);
    EXPECT_EQ(stack().redis_hash("pi:" + pi)["status"],
              "requires_payment_method");
  }
  // The card number never reaches Redis or the page.
  auto res = stack().pay(cs, cases[0].card, 0, nonce);
  EXPECT_EQ(res.body.find("4242424242424241"), std::string::npos);
  // Nor when it was typed in the name or expiry field (the audit found it
  // written back into their value=""), valid or mistyped, however spaced.
  for (auto [name, exp] :
       std::vector<std::pair<std::string, std::string>>{
         {"Ada", "4242424242424242"},
         {"Ada", "4242 4242 4242 4241"},
         {"4242424242424242", "12/34"},
         {"4242-4242-4242-4241", "13/30"},
         // The re-test's: slashes, letters, wide gaps between groups.
         {"4242/4242/4242/4241", "12/34"},
         {"Ada", "4242a4242b4242c4242"},
         {"4242    4242    4242    4241", "12/34"}}) {
    SCOPED_TRACE(name + " / " + exp);
    card_input typo;
    typo.name = name;
    typo.exp = exp;
    typo.number = "4242"; // the form is refused whatever the rest
    auto shown = stack().pay(cs, typo, 0, nonce);
    EXPECT_EQ(shown.status, 422) << shown.body;
    for (auto* digits : {"424242424242", "4242 4242 4242", "4242-4242-4242"}) {
      EXPECT_EQ(shown.body.find(digits), std::string::npos) << shown.body;
    }
    EXPECT_EQ(shown.body.find(name.size() > 3 ? name : exp), std::string::npos)
      << shown.body;
  }
  // A name that is only letters is shown again.
  card_input named;
  named.name = "Ada Lovelace";
  named.number = "4242";
  EXPECT_NE(stack().pay(cs, named, 0, nonce).body.find("value=\"Ada Lovelace\""),
            std::string::npos);

  // A form without a nonce is refused too.
  auto no_nonce = http_post_form(
      stack().node_url(), "/pay/" + cs,
      {{"number", "4242424242424242"}, {"exp", "12/34"}, {"cvc", "123"}});
  EXPECT_EQ(no_nonce.status, 400) << no_nonce.body;
  EXPECT_EQ(stack().redis_keys("pa:*").size(), attempts_before);
}

TEST_F(bad_input, hosted_page_for_unknown_and_paid_sessions) {
  auto unknown = http_get(stack().node_url(), "/pay/cs_test_nosuchsession");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("Checkout not found"), std::string::npos);
  EXPECT_EQ(unknown.body.find("name=\"nonce\""), std::string::npos);
  auto post_unknown =
      http_post_form(stack().node_url(), "/pay/cs_test_nosuchsession",
                     {{"nonce", "n"},
                      {"number", "4242424242424242"},
                      {"exp", "12/34"},
                      {"cvc", "123"}});
  EXPECT_EQ(post_unknown.status, 404);
  EXPECT_EQ(
      http_get(stack().node_url(), "/pay/cs_test_nosuchsession/status.json")
          .status,
      404);

  auto session = stack().create_session(800);
  auto cs = session["id"].get<std::string>();
  ASSERT_EQ(stack().pay(cs, "4242424242424242").status, 303);
  auto outcome = stack().wait_for_outcome(cs);
  ASSERT_EQ(outcome.value("status", ""), "complete") << outcome.dump();
  auto page = http_get(stack().node_url(), "/pay/" + cs);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Already paid"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("<form"), std::string::npos) << page.body;
  // The link back goes to the merchant's success URL, placeholder filled in.
  EXPECT_NE(page.body.find("http://127.0.0.1:9/ok?cs=" + cs), std::string::npos)
      << page.body;
}

TEST_F(bad_input, the_status_page_answers_from_the_state_without_scripts) {
  // A browser without scripts reloads /status (its <noscript> refresh):
  // the server must take it where the script would.
  auto unpaid = stack().create_session(800)["id"].get<std::string>();
  auto idle = http_get(stack().node_url(), "/pay/" + unpaid + "/status");
  EXPECT_EQ(idle.status, 303) << "nothing submitted: back to the form";
  EXPECT_EQ(idle.header("Location"), "/pay/" + unpaid);

  auto declined = stack().create_session(800)["id"].get<std::string>();
  ASSERT_EQ(stack().pay(declined, "4000000000000002").status, 303);
  stack().wait_for_outcome(declined);
  auto told = http_get(stack().node_url(), "/pay/" + declined + "/status");
  EXPECT_EQ(told.status, 200);
  EXPECT_NE(told.body.find("Payment declined: "), std::string::npos)
    << told.body;
  EXPECT_NE(told.body.find("<p id=\"retry\"><a href=\"/pay/" + declined),
            std::string::npos)
    << "the retry link is shown, not hidden";
  // The page's own protections.
  EXPECT_EQ(told.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(told.header("Referrer-Policy"), "no-referrer");
  EXPECT_NE(told.header("Content-Security-Policy").find("default-src 'none'"),
            std::string::npos);

  auto paid = stack().create_session(800)["id"].get<std::string>();
  card_input card;
  card.name = "Grace Hopper";
  ASSERT_EQ(stack().pay(paid, card).status, 303);
  ASSERT_EQ(stack().wait_for_outcome(paid).value("status", ""), "complete");
  auto done = http_get(stack().node_url(), "/pay/" + paid + "/status");
  EXPECT_EQ(done.status, 303);
  EXPECT_EQ(done.header("Location"), "http://127.0.0.1:9/ok?cs=" + paid);
  // The name typed on the page is the card's billing name, as at Stripe.
  auto session = stack().api_get("/v1/checkout/sessions/" + paid).body_json();
  auto intent = stack()
                  .api_get("/v1/payment_intents/"
                           + session.value("payment_intent", ""))
                  .body_json();
  auto method = stack()
                  .api_get("/v1/payment_methods/"
                           + intent.value("payment_method", ""))
                  .body_json();
  EXPECT_EQ(method["billing_details"].value("name", ""), "Grace Hopper")
    << method.dump();
}

TEST_F(bad_input, a_success_url_in_utf8_is_sent_percent_encoded) {
  // A header is ASCII (RFC 9110); the API audit saw the URL's UTF-8 bytes
  // sent raw in the status page's Location.
  auto fields = with(valid_session(), "success_url",
                     "http://127.0.0.1:9/caf\xc3\xa9?cs={CHECKOUT_SESSION_ID}");
  auto made = stack().api_post("/v1/checkout/sessions", fields);
  ASSERT_EQ(made.status, 200) << made.body;
  auto cs = made.body_json().value("id", "");
  EXPECT_EQ(made.body_json().value("success_url", ""),
            "http://127.0.0.1:9/caf\xc3\xa9?cs={CHECKOUT_SESSION_ID}")
    << "kept as the merchant sent it";
  ASSERT_EQ(stack().pay(cs, "4242424242424242").status, 303);
  ASSERT_EQ(stack().wait_for_outcome(cs).value("status", ""), "complete");
  // Raw bytes: cpp-httplib's client decodes what it reads in a header.
  auto done = raw_exchange(stack().node_url(),
                           "GET /pay/" + cs + "/status HTTP/1.1\r\n"
                           "Host: 127.0.0.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(raw_status_of(done), 303) << done;
  EXPECT_NE(done.find("\r\nLocation: http://127.0.0.1:9/caf%C3%A9?cs=" + cs
                      + "\r\n"),
            std::string::npos)
    << done;
}

TEST_F(bad_input, a_session_tries_at_most_ten_cards) {
  // Card testing: one session must not try card after card.
  auto cs = stack().create_session(800)["id"].get<std::string>();
  auto charges_before = stack().redis_keys("pa:*").size();
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(stack().pay(cs, "4000000000000002").status, 303) << i;
    stack().wait_for_outcome(cs);
    auto state = http_get(stack().node_url(), "/pay/" + cs + "/status.json");
    EXPECT_EQ(state.body_json().value("attempts_left", -1), 9 - i)
      << state.body;
    if (i == 7 || i == 8) {
      auto form = http_get(stack().node_url(), "/pay/" + cs);
      EXPECT_NE(form.body.find(i == 7 ? "You can try two more cards."
                                      : "You can try one more card."),
                std::string::npos)
        << form.body;
    }
  }
  // The page says so before the shopper types an eleventh card.
  auto form = http_get(stack().node_url(), "/pay/" + cs);
  EXPECT_EQ(form.status, 429);
  EXPECT_NE(form.body.find("Too many attempts"), std::string::npos);
  EXPECT_EQ(form.body.find("name=\"number\""), std::string::npos);
  EXPECT_EQ(http_get(stack().node_url(), "/pay/" + cs + "/status").status,
            429);
  // A form kept open in another tab is refused on submit.
  card_input good;
  good.number = "4242424242424242";
  auto refused = stack().pay(cs, good, 0, "nonce-of-an-old-tab");
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_NE(refused.body.find("Too many attempts"), std::string::npos);
  EXPECT_EQ(stack().redis_keys("pa:*").size(), charges_before + 10)
    << "the eleventh card was never tried";
  auto session = stack().api_get("/v1/checkout/sessions/" + cs).body_json();
  EXPECT_EQ(session.value("status", ""), "open");
}

TEST_F(bad_input, the_page_of_a_held_payment_does_not_say_paid) {
  // Manual capture: the session completes on the authorisation.
  auto session = stack().create_session(
    1200, 1, {{"payment_intent_data[capture_method]", "manual"}});
  auto cs = session["id"].get<std::string>();
  ASSERT_EQ(stack().pay(cs).status, 303);
  ASSERT_EQ(stack().wait_for_outcome(cs).value("intent_status", ""),
            "requires_capture");
  auto held = http_get(stack().node_url(), "/pay/" + cs);
  EXPECT_NE(held.body.find("Payment authorised"), std::string::npos)
    << held.body;
  EXPECT_EQ(held.body.find("been paid"), std::string::npos);
  auto pi = stack()
              .api_get("/v1/checkout/sessions/" + cs)
              .body_json()
              .value("payment_intent", "");
  ASSERT_EQ(stack().api_post("/v1/payment_intents/" + pi + "/cancel", {}).status,
            200);
  ASSERT_TRUE(wait_until(
    [&] {
      return http_get(stack().node_url(), "/pay/" + cs)
               .body.find("Authorisation released")
             != std::string::npos;
    },
    10s));
}

TEST_F(bad_input, a_card_form_sent_from_another_site_is_refused) {
  // The audit of the hosted page made a shopper's browser post a form from
  // another site into an open session (decision 64).
  auto cs = stack().create_session(900)["id"].get<std::string>();
  auto attempts_before = stack().redis_keys("pa:*").size();
  auto post = [&](std::vector<std::pair<std::string, std::string>> headers) {
    http_request req;
    req.method = "POST";
    req.path = "/pay/" + cs;
    req.content_type = "application/x-www-form-urlencoded";
    req.body = form_encode({{"nonce", "n-" + std::to_string(headers.size())},
                            {"number", "4000000000000002"},
                            {"exp", "12/34"},
                            {"cvc", "123"}});
    req.headers = std::move(headers);
    return http_call(stack().node_url(), req);
  };
  for (auto headers :
       {std::vector<std::pair<std::string, std::string>>{
          {"Origin", "https://evil.example"}},
        {{"Sec-Fetch-Site", "cross-site"}},
        {{"Origin", "null"}},
        {{"Origin", stack().node_url()}, {"Sec-Fetch-Site", "same-site"}}}) {
    auto refused = post(headers);
    EXPECT_EQ(refused.status, 403) << headers.front().second;
    EXPECT_NE(refused.body.find("Nothing was charged"), std::string::npos);
  }
  EXPECT_EQ(stack().redis_keys("pa:*").size(), attempts_before)
    << "a refused form made an attempt";
  EXPECT_EQ(stack().payment_status(cs).value("attempts_left", -1), 10);
  // From its own page, as a browser says it.
  auto own = post({{"Origin", stack().node_url()},
                   {"Sec-Fetch-Site", "same-origin"}});
  EXPECT_EQ(own.status, 303) << own.body;
}

TEST_F(bad_input, health_and_metrics) {
  auto health = http_get(stack().node_url(), "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body_json().value("status", ""), "ok") << health.body;
  auto metrics = http_get(stack().node_url(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("psp_payment_stream_length "), std::string::npos)
      << metrics.body;
  for (int p = 0; p < 12; ++p) {
    EXPECT_NE(metrics.body.find("psp_payment_partition_length{partition=\""
                                + std::to_string(p) + "\"} "),
              std::string::npos)
        << "partition " << p;
  }
  EXPECT_NE(metrics.body.find("psp_redis_up 1"), std::string::npos);
  EXPECT_NE(metrics.body.find("psp_redis_writable 1"), std::string::npos);
  // Redis that answers PING but refuses writes (out of memory under
  // noeviction): the node says so, and which error Redis gives.
  ASSERT_TRUE(stack().redis_cmd({"CONFIG", "SET", "maxmemory", "1"}));
  auto refusing = http_get(stack().node_url(), "/healthz");
  auto refusing_metrics = http_get(stack().node_url(), "/metrics");
  // Reads still work: lists (their snapshot is a read-only script, which
  // Redis runs out of memory, where it refuses a MULTI) and the ledger
  // check an operator runs in such an incident.
  auto listed = stack().api_get("/v1/payment_intents?limit=3");
  auto verified = run_to_exit({psp_admin_binary(), "--redis",
                               stack().redis_address(), "verify-ledger"});
  ASSERT_TRUE(stack().redis_cmd({"CONFIG", "SET", "maxmemory", "0"}));
  EXPECT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_EQ(refusing.status, 503) << refusing.body;
  EXPECT_EQ(refusing.body_json().value("redis", ""), "refusing_writes")
    << refusing.body;
  EXPECT_EQ(refusing.body_json().value("redis_error", "").rfind("OOM", 0), 0u)
    << refusing.body;
  EXPECT_NE(refusing_metrics.body.find("psp_redis_writable 0"),
            std::string::npos);
  EXPECT_NE(refusing_metrics.body.find("psp_redis_up 1"), std::string::npos);
  EXPECT_EQ(http_get(stack().node_url(), "/healthz").status, 200);
  EXPECT_NE(metrics.body.find("# TYPE psp_http_requests_total counter"),
            std::string::npos);
  // The admin API wants its token.
  EXPECT_EQ(http_get(stack().node_url(), "/admin/dead_letters").status, 401);
  EXPECT_EQ(http_get(stack().node_url(), "/admin/dead_letters", "wrong").status,
            401);
  EXPECT_EQ(
      http_get(stack().node_url(), "/admin/dead_letters", stack().admin_token())
          .status,
      200);
}

TEST_F(bad_input, the_admin_api_says_whether_its_token_is_missing_or_wrong) {
  auto message = [&](const http_reply& r) {
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(r.body_json()["error"].value("type", ""), "invalid_request_error")
      << r.body;
    return r.body_json()["error"].value("message", "");
  };
  auto missing = message(http_get(stack().node_url(), "/admin/dead_letters"));
  EXPECT_EQ(missing.rfind("You did not provide an admin token.", 0), 0u)
    << missing;
  EXPECT_NE(missing.find("Authorization: Bearer"), std::string::npos)
    << missing;
  EXPECT_EQ(message(http_get(stack().node_url(), "/admin/dead_letters",
                             "wrong")),
            "Invalid admin token.");
  EXPECT_TRUE(stack().wait_for_log(
    0, "event=auth_failed realm=admin reason=wrong_token key=-", 5s));
  EXPECT_EQ(message(http_get(stack().node_url(), "/admin/dead_letters",
                             stack().secret_key())),
            "Invalid admin token: a merchant's secret key is not the admin "
            "token.");
  http_request basic;
  basic.path = "/admin/dead_letters";
  basic.headers = {{"Authorization", "Basic " + stack().admin_token()}};
  EXPECT_NE(message(http_call(stack().node_url(), basic))
              .find("the admin API takes Bearer auth"),
            std::string::npos);
  // The scheme's name is case-insensitive, as for the merchant API.
  http_request lower;
  lower.path = "/admin/dead_letters";
  lower.headers = {{"Authorization", "bearer " + stack().admin_token()}};
  EXPECT_EQ(http_call(stack().node_url(), lower).status, 200);
}

TEST_F(bad_input, the_operator_reads_any_object_by_its_id) {
  // The on-call audit needed each merchant's key to read a payment.
  auto session = stack().create_session(1300);
  auto cs = session["id"].get<std::string>();
  ASSERT_EQ(stack().pay(cs).status, 303);
  ASSERT_EQ(stack().wait_for_outcome(cs).value("payment_status", ""), "paid");
  auto pi = stack().api_get("/v1/payment_intents/"
                            + session["payment_intent"].get<std::string>())
              .body_json();
  auto read = [&](const std::string& id, const std::string& token) {
    return http_get(stack().node_url(), "/admin/objects/" + id, token);
  };
  for (auto [id, object] :
       std::vector<std::pair<std::string, std::string>>{
         {cs, "checkout.session"},
         {pi.value("id", ""), "payment_intent"},
         {pi.value("latest_charge", ""), "charge"}}) {
    auto got = read(id, stack().admin_token());
    ASSERT_EQ(got.status, 200) << id << ": " << got.body;
    auto doc = got.body_json();
    EXPECT_EQ(doc["object"].value("id", ""), id);
    EXPECT_EQ(doc["object"].value("object", ""), object);
    EXPECT_EQ(doc.value("merchant", ""), stack().merchant().id);
  }
  EXPECT_EQ(read(cs, "").status, 401);
  EXPECT_EQ(read(cs, stack().secret_key()).status, 401)
    << "a merchant's key is not the operator's";
  auto none = read("pi_nothing", stack().admin_token());
  EXPECT_EQ(none.status, 404) << none.body;
  auto pasted = read("4242424242424242", stack().admin_token());
  EXPECT_EQ(pasted.status, 404);
  EXPECT_EQ(pasted.body.find("42424242"), std::string::npos) << pasted.body;
}

TEST_F(bad_input, admin_urls_with_ids_no_object_has_are_404_resource_missing) {
  auto token = stack().admin_token();
  auto post = [&](const std::string& path) {
    return http_post_form(stack().node_url(), path, {}, token);
  };
  auto expect_missing = [&](const http_reply& r, const std::string& message) {
    EXPECT_EQ(r.status, 404) << r.body;
    auto e = r.body_json()["error"];
    EXPECT_EQ(e.value("type", ""), "invalid_request_error") << r.body;
    EXPECT_EQ(e.value("code", ""), "resource_missing") << r.body;
    EXPECT_EQ(e.value("message", ""), message) << r.body;
  };
  // An unknown well-formed dead letter id and ids of the wrong shape get
  // the same answer, from both routes that take one.
  // Stream ids lead with 13 digits of milliseconds: not masked as cards.
  for (auto* id : {"1-0", "nope", "99999999999999999999-0", "1-2-3",
                   "1764578400123-0"}) {
    for (auto* action : {"/replay", "/discard"}) {
      expect_missing(post(std::string{"/admin/dead_letters/"} + id + action),
                     std::string{"No such dead letter: '"} + id + "'");
    }
  }
  // The token still comes first.
  EXPECT_EQ(http_post_form(stack().node_url(), "/admin/dead_letters/nope/replay",
                           {})
              .status,
            401);
  auto m = stack().merchant().id;
  expect_missing(http_get(stack().node_url(),
                          "/admin/statements/" + m + "/stored/abc", token),
                 "No such statement: 'abc'");
  expect_missing(http_get(stack().node_url(),
                          "/admin/statements/acct_1:balances?from=1&to=2",
                          token),
                 "No such merchant: 'acct_1:balances'");
  expect_missing(http_get(stack().node_url(),
                          "/admin/statements/a-b/stored", token),
                 "No such merchant: 'a-b'");
  // An id merchants could have but none has: not an empty list.
  expect_missing(http_get(stack().node_url(),
                          "/admin/statements/acct_nope/stored", token),
                 "No such merchant: 'acct_nope'");
  EXPECT_EQ(http_get(stack().node_url(), "/admin/statements/" + m + "/stored",
                     token)
              .status,
            200);
  expect_missing(http_get(stack().node_url(), "/admin/reconciliations/r-1",
                          token),
                 "No such reconciliation run: 'r-1'");
  // A URL no admin route serves stays unrecognized.
  auto other = post("/admin/dead_letters/1-0/bogus");
  EXPECT_EQ(other.status, 404) << other.body;
  EXPECT_EQ(other.body_json()["error"].value("message", ""),
            "Unrecognized request URL (POST: /admin/dead_letters/1-0/bogus).")
    << other.body;
}

} // namespace
} // namespace psp::test
