// Goal: requests a Stripe client sends that cpp-httplib's defaults or a
// loose parameter check used to mishandle (found by a QA audit): each gets
// the answer Stripe's API would give, and a wrong body moves no money.

#include "tests/support/payment_flows.hpp"
#include "tests/support/raw_http.hpp"
#include "tests/support/stack_suite.hpp"

#include <gtest/gtest.h>

#include <zlib.h>

#include <chrono>
#include <sstream>
#include <thread>

namespace psp::test {
namespace {

json body_of(const std::string& raw) {
  auto at = raw.find("\r\n\r\n");
  return json::parse(at == std::string::npos ? "" : raw.substr(at + 4),
                     nullptr, false);
}

/// Answers in a raw exchange (each starts with its status line).
size_t answers_in(const std::string& raw) {
  size_t answers = 0;
  for (auto at = raw.find("HTTP/1.1 "); at != std::string::npos;
       at = raw.find("HTTP/1.1 ", at + 1)) {
    ++answers;
  }
  return answers;
}

class api_edges : public stack_suite {
protected:
  /// A complete keyed request creating an intent with `description`: what
  /// a smuggling test hides in a body that must never be run.
  std::string smuggled_create(const std::string& description) {
    const std::string inner = "amount=777&currency=usd&description="
                              + description;
    return "POST /v1/payment_intents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           "Authorization: Bearer " + stack().secret_key() + "\r\n"
           "Content-Type: application/x-www-form-urlencoded\r\n"
           "Content-Length: " + std::to_string(inner.size()) + "\r\n\r\n"
           + inner;
  }

  /// No intent of the recent ones has `description`.
  void expect_never_created(const std::string& description) {
    auto listed = stack().api_get("/v1/payment_intents?limit=100").body_json();
    ASSERT_TRUE(listed["data"].is_array()) << listed.dump();
    for (auto& pi : listed["data"]) {
      EXPECT_NE(pi["description"], description) << pi.dump();
    }
  }

  /// A POST with the merchant's key, `Connection: close` and the given
  /// extra header lines and body (no Content-Length unless in `headers`).
  std::string raw_post(const std::string& path, const std::string& headers,
                       const std::string& body = {}) {
    return raw_exchange(stack().node_url(),
                        "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          + "Authorization: Bearer " + stack().secret_key()
                          + "\r\nConnection: close\r\n" + headers + "\r\n"
                          + body);
  }

  /// A form POST by raw bytes (headers such as an Idempotency-Key that an
  /// HTTP library would refuse, or an exact Content-Length).
  std::string raw_form_post(const std::string& path, const std::string& headers,
                            const std::string& form) {
    return raw_post(path,
                    headers + "Content-Type: application/x-www-form-urlencoded"
                      + "\r\nContent-Length: " + std::to_string(form.size())
                      + "\r\n",
                    form);
  }

};

TEST_F(api_edges, a_multipart_body_is_400_and_captures_nothing) {
  auto pi = create_intent(stack(), 1000, "usd", true);
  ASSERT_EQ(pi.value("status", ""), "requires_capture") << pi.dump();
  auto id = pi.value("id", "");
  std::string body = "--XyZ\r\nContent-Disposition: form-data; "
                     "name=\"amount_to_capture\"\r\n\r\n100\r\n--XyZ--\r\n";
  auto raw = raw_post("/v1/payment_intents/" + id + "/capture",
                      "Content-Type: multipart/form-data; boundary=XyZ\r\n"
                      "Content-Length: "
                        + std::to_string(body.size()) + "\r\n",
                      body);
  EXPECT_EQ(raw_status_of(raw), 400) << raw;
  EXPECT_NE(body_of(raw)["error"].value("message", "").find(
              "application/x-www-form-urlencoded"),
            std::string::npos)
    << raw;
  auto now = stack().api_get("/v1/payment_intents/" + id).body_json();
  EXPECT_EQ(now.value("status", ""), "requires_capture") << now.dump();
  EXPECT_EQ(now.value("amount_received", -1), 0) << now.dump();
}

TEST_F(api_edges, a_post_without_content_length_has_an_empty_body) {
  // `curl -X POST .../capture`, as in Stripe's docs, sends no length.
  auto started = std::chrono::steady_clock::now();
  auto raw = raw_post("/v1/checkout/sessions", "");
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(raw_status_of(raw), 400) << raw;
  EXPECT_EQ(body_of(raw)["error"].value("param", ""), "mode") << raw;
  EXPECT_LT(took, std::chrono::seconds{5}) << "answered at once, not after "
                                              "the read timeout";
  raw = raw_post("/v1/balance", "");
  EXPECT_EQ(raw_status_of(raw), 404) << raw;

  auto pi = create_intent(stack(), 1500, "usd", true);
  raw = raw_post("/v1/payment_intents/" + pi.value("id", "") + "/cancel", "");
  EXPECT_EQ(raw_status_of(raw), 200) << raw;
  EXPECT_EQ(body_of(raw).value("status", ""), "canceled") << raw;
}

TEST_F(api_edges, chunked_and_compressed_bodies_are_refused_unread) {
  // cpp-httplib 0.11 bounds a body by its Content-Length only: a chunked one
  // was read whole (200 MB grew a node by 400 MB) and a compressed one
  // inflated whole (63 KB to 62 MB), before the key was checked (found by
  // a security audit).
  const std::string form = "amount=2000&currency=usd";
  std::ostringstream chunk_size;
  chunk_size << std::hex << form.size();
  auto raw = raw_post("/v1/payment_intents",
                      "Transfer-Encoding: chunked\r\nContent-Type: "
                      "application/x-www-form-urlencoded\r\n",
                      chunk_size.str() + "\r\n" + form + "\r\n0\r\n\r\n");
  EXPECT_EQ(raw_status_of(raw), 411) << raw;
  EXPECT_EQ(body_of(raw)["error"].value("type", ""), "invalid_request_error")
    << raw;
  EXPECT_NE(raw.find("Connection: close"), std::string::npos) << raw;

  std::string packed(compressBound(form.size()), '\0');
  auto packed_size = static_cast<uLongf>(packed.size());
  ASSERT_EQ(compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                      reinterpret_cast<const Bytef*>(form.data()),
                      form.size(), 9),
            Z_OK);
  packed.resize(packed_size);
  raw = raw_form_post("/v1/payment_intents", "Content-Encoding: deflate\r\n",
                      packed);
  EXPECT_EQ(raw_status_of(raw), 415) << raw;
  EXPECT_NE(raw.find("Connection: close"), std::string::npos) << raw;

  raw = raw_form_post("/v1/payment_intents", "Content-Encoding: Identity\r\n",
                      form);
  EXPECT_EQ(raw_status_of(raw), 200) << raw;
  EXPECT_NE(raw.find("Cache-Control: no-store"), std::string::npos) << raw;
}

TEST_F(api_edges, a_refused_body_is_not_run_as_the_next_request) {
  // The body behind a 411 or 415 stays unread; on a kept-alive connection
  // it was parsed as the next request, so it could smuggle one past a
  // proxy (found when re-testing the fix). The node now closes.
  const auto smuggled = smuggled_create("smuggled");
  // The fuzzing audit's heads, which cpp-httplib reads as an empty body:
  // a length that is not a plain decimal, two lengths, a header named with
  // a space before its colon.
  for (const std::string& refused_head : std::vector<std::string>{
         "Transfer-Encoding: chunked\r\n",
         "Content-Encoding: gzip\r\nContent-Length: "
           + std::to_string(smuggled.size()) + "\r\n",
         "Content-Length: abc\r\n", "Content-Length: 0x18\r\n",
         "Content-Length: 0\r\nContent-Length: "
           + std::to_string(smuggled.size()) + "\r\n",
         "Transfer-Encoding : chunked\r\n"}) {
    SCOPED_TRACE(refused_head);
    auto started = std::chrono::steady_clock::now();
    auto raw = raw_exchange(stack().node_url(),
                            "POST /v1/payment_intents HTTP/1.1\r\n"
                            "Host: 127.0.0.1\r\nContent-Type: "
                            "application/x-www-form-urlencoded\r\n"
                              + refused_head + "\r\n" + smuggled);
    auto took = std::chrono::steady_clock::now() - started;
    EXPECT_TRUE(raw_status_of(raw) == 411 || raw_status_of(raw) == 415
                || raw_status_of(raw) == 400)
      << raw;
    EXPECT_EQ(body_of(raw)["error"].value("type", ""), "invalid_request_error")
      << raw;
    EXPECT_EQ(answers_in(raw), 1u)
      << "one answer, then the connection closes: " << raw;
    EXPECT_LT(took, std::chrono::seconds{5}) << "closed, not timed out";
  }
  expect_never_created("smuggled");
}

TEST_F(api_edges, a_post_with_parameters_in_its_query_is_refused_whole) {
  // Found by the API audit: the handlers read only the form body, so
  // `POST /v1/refunds?amount=100` refunded the whole charge.
  auto made = stack().api_post("/v1/payment_intents",
                               {{"amount", "2000"},
                                {"currency", "usd"},
                                {"confirm", "true"},
                                {"payment_method", "pm_card_visa"}});
  ASSERT_EQ(made.status, 200) << made.body;
  auto id = made.body_json().value("id", "");
  ASSERT_EQ(wait_intent(stack(), id).value("status", ""), "succeeded");

  auto raw = raw_form_post("/v1/refunds?amount=100", "",
                           "payment_intent=" + id);
  EXPECT_EQ(raw_status_of(raw), 400) << raw;
  auto err = body_of(raw)["error"];
  EXPECT_EQ(err.value("type", ""), "invalid_request_error") << raw;
  EXPECT_EQ(err.value("param", ""), "amount") << raw;
  auto refunds = stack().api_get("/v1/refunds?payment_intent=" + id);
  ASSERT_EQ(refunds.status, 200) << refunds.body;
  EXPECT_TRUE(refunds.body_json()["data"].empty()) << refunds.body;
  auto charge = stack().api_get("/v1/payment_intents/" + id
                                + "?expand[]=latest_charge");
  EXPECT_EQ(charge.body_json()["latest_charge"].value("amount_refunded", -1),
            0)
    << charge.body;

  // Every merchant POST, expand included; a list's filters stay in its
  // query.
  auto expanded = raw_form_post("/v1/payment_intents?expand[]=latest_charge",
                                "", "amount=500&currency=usd");
  EXPECT_EQ(raw_status_of(expanded), 400) << expanded;
  EXPECT_EQ(stack().api_get("/v1/refunds?limit=1").status, 200);
}

TEST_F(api_edges, what_follows_a_head_the_server_refuses_is_never_run) {
  // The re-test of the framing fix: a GET's body (which cpp-httplib never
  // reads) and the bytes after a head the library itself refuses (a URL
  // over its limit, a request line it cannot parse) ran as the next
  // request; behind a proxy sharing connections, the next client's headers
  // became an attacker's intent description.
  const auto smuggled = smuggled_create("smuggled2");
  auto length = "Content-Length: " + std::to_string(smuggled.size())
                + "\r\n\r\n";
  for (const std::string& head : std::vector<std::string>{
         "GET /v1/balance HTTP/1.1\r\nHost: x\r\n" + length,
         "OPTIONS /v1/balance HTTP/1.1\r\nHost: x\r\n" + length,
         "POST /v1/payment_intents?x=" + std::string(9000, 'a')
           + " HTTP/1.1\r\nHost: x\r\n" + length,
         "PURGE /v1/balance HTTP/1.1\r\nHost: x\r\n" + length,
         "POST /v1/payment_intents HTTP/9.9\r\nHost: x\r\n" + length}) {
    SCOPED_TRACE(head.substr(0, 40));
    auto raw = raw_exchange(stack().node_url(), head + smuggled);
    EXPECT_GE(raw_status_of(raw), 400) << raw;
    EXPECT_EQ(answers_in(raw), 1u)
      << "one answer, then the connection closes: " << raw;
    EXPECT_NE(raw.find("Connection: close"), std::string::npos) << raw;
  }
  expect_never_created("smuggled2");
}

TEST_F(api_edges, a_declared_oversize_body_is_refused_at_once) {
  // cpp-httplib 0.11 reads such a body to skip it (12 s until its read
  // timeout, the fuzzing audit), and invites it with "100 Continue".
  for (const std::string& expect : {std::string{}, std::string{
                                      "Expect: 100-continue\r\n"}}) {
    SCOPED_TRACE(expect);
    auto started = std::chrono::steady_clock::now();
    auto raw = raw_post("/v1/payment_intents",
                        expect + "Content-Type: application/x-www-form-"
                                 "urlencoded\r\nContent-Length: 1000000000"
                                 "\r\n",
                        "amount=2000&currency=usd");
    auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(raw_status_of(raw), 413) << raw;
    EXPECT_EQ(raw.find("100 Continue"), std::string::npos) << raw;
    EXPECT_EQ(body_of(raw)["error"].value("message", ""),
              "Request body too large.")
      << raw;
    EXPECT_LT(took, std::chrono::seconds{5}) << "not after the read timeout";
  }
}

TEST_F(api_edges, a_url_too_long_is_said_so) {
  auto res = stack().api_get("/v1/payment_intents/pi_" + std::string(10000, 'a'));
  EXPECT_EQ(res.status, 414) << res.body;
  EXPECT_EQ(res.body_json()["error"].value("message", ""),
            "Request URL too long.")
    << res.body;
  EXPECT_EQ(res.body_json()["error"].value("type", ""),
            "invalid_request_error");
}

TEST_F(api_edges, one_key_a_request_and_no_control_characters) {
  // cpp-httplib hands the first of two Authorization headers to a handler
  // and cuts a value at a NUL: "Bearer <key>\0junk" authenticated.
  auto raw = raw_exchange(stack().node_url(),
                          "GET /v1/balance HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Authorization: Bearer " + stack().secret_key()
                            + "\r\nAuthorization: Bearer sk_test_other\r\n"
                              "Connection: close\r\n\r\n");
  EXPECT_EQ(raw_status_of(raw), 400) << raw;
  EXPECT_NE(body_of(raw)["error"].value("message", "").find("Authorization"),
            std::string::npos)
    << raw;
  raw = raw_exchange(stack().node_url(),
                     "GET /v1/balance HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Bearer " + stack().secret_key()
                       + std::string{"\0junk", 5}
                       + "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(raw_status_of(raw), 400) << raw;
  EXPECT_EQ(raw.find(stack().secret_key()), std::string::npos) << raw;
  raw = raw_exchange(stack().node_url(),
                     "GET /v1/balance HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Bearer " + stack().secret_key()
                       + "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(raw_status_of(raw), 200) << raw;
}

TEST_F(api_edges, a_line_without_end_is_cut_off_not_buffered) {
  // cpp-httplib's line reader grows a line until its newline: 300 MB
  // without one grew a node by half a gigabyte. A request now reads at
  // most its body limit and 64 KiB more.
  std::string endless = "GET /" + std::string(4 * 1024 * 1024, 'a');
  auto started = std::chrono::steady_clock::now();
  auto raw = raw_exchange(stack().node_url(), endless);
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_LT(took, std::chrono::seconds{5}) << "closed once over the limit";
  EXPECT_EQ(raw.find("HTTP/1.1 2"), std::string::npos) << raw.substr(0, 200);
  EXPECT_EQ(stack().api_get("/v1/balance").status, 200)
    << "the node still serves";
}

TEST_F(api_edges, form_bodies_above_8_kib_are_read) {
  form_fields fields{{"amount", "2000"}, {"currency", "usd"}};
  for (int i = 0; i < 20; ++i) {
    fields.emplace_back("metadata[k" + std::to_string(i) + "]",
                        std::string(500, 'v'));
  }
  auto res = stack().api_post("/v1/payment_intents", fields);
  ASSERT_EQ(res.status, 200) << res.body.substr(0, 300);
  EXPECT_EQ(res.body_json()["metadata"].size(), 20u);
}

TEST_F(api_edges, a_bracketed_string_param_is_400_and_frees_its_key) {
  http_request req;
  req.method = "POST";
  req.path = "/v1/webhook_endpoints";
  req.content_type = "application/x-www-form-urlencoded";
  req.bearer = stack().secret_key();
  req.headers = {{"Idempotency-Key", "edge-endpoint-1"}};
  req.body = "url[x]=http%3A%2F%2F127.0.0.1%3A9%2Fhook&enabled_events[]=*";
  auto res = http_call(stack().node_url(), req);
  EXPECT_EQ(res.status, 400) << res.body;
  EXPECT_EQ(res.body_json()["error"].value("param", ""), "url") << res.body;
  req.body = "url=http%3A%2F%2F127.0.0.1%3A9%2Fhook&enabled_events[]=*";
  res = http_call(stack().node_url(), req);
  EXPECT_EQ(res.status, 200) << "the key was not left claimed: " << res.body;
  auto id = res.body_json().value("id", "");
  req.path = "/v1/webhook_endpoints/" + id;
  req.headers.clear();
  for (auto* bad : {"description[a]=b", "disabled[x]=1"}) {
    req.body = bad;
    res = http_call(stack().node_url(), req);
    EXPECT_EQ(res.status, 400) << bad << " -> " << res.body;
  }
}

TEST_F(api_edges, bytes_that_are_not_utf8_in_echoed_headers_give_json_errors) {
  auto raw = raw_exchange(stack().node_url(),
                          "GET /v1/balance HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Authorization: Bearer 1234567\xc3\xa9"
                          "abcdefgh\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(raw_status_of(raw), 401) << raw;
  EXPECT_TRUE(body_of(raw)["error"].is_object()) << raw;

  std::string key = "edge-\xff-key";
  auto form = [](const std::string& amount) {
    return "amount=" + amount + "&currency=usd";
  };
  auto key_header = "Idempotency-Key: " + key + "\r\n";
  raw = raw_form_post("/v1/payment_intents", key_header, form("100"));
  EXPECT_EQ(raw_status_of(raw), 200) << raw;
  raw = raw_form_post("/v1/payment_intents", key_header, form("101"));
  EXPECT_EQ(raw_status_of(raw), 400) << raw;
  EXPECT_EQ(body_of(raw)["error"].value("type", ""), "idempotency_error")
    << raw;
}

TEST_F(api_edges, the_auth_scheme_is_case_insensitive) {
  auto raw = raw_exchange(stack().node_url(),
                          "GET /v1/balance HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Authorization: bearer "
                            + stack().secret_key()
                            + "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(raw_status_of(raw), 200) << raw;
}

TEST_F(api_edges, a_refund_of_a_foreign_charge_names_only_the_charge) {
  auto pi = create_intent(stack(), 1200);
  ASSERT_EQ(pi.value("status", ""), "succeeded") << pi.dump();
  auto charge = pi.value("latest_charge", "");
  auto other = stack().create_merchant("Edge Other");
  auto res = stack().api_post("/v1/refunds", {{"charge", charge}}, 0,
                              other.secret_key);
  EXPECT_EQ(res.status, 400) << res.body; // a missing object named in a body
  EXPECT_EQ(res.body_json()["error"].value("code", ""), "resource_missing");
  auto err = res.body_json()["error"];
  EXPECT_EQ(err.value("param", ""), "charge") << res.body;
  EXPECT_EQ(res.body.find(pi.value("id", "")), std::string::npos)
    << "the intent behind another merchant's charge leaked: " << res.body;
}

TEST_F(api_edges, list_filters_are_exact_and_single_valued) {
  auto pi = create_intent(stack(), 3000);
  auto id = pi.value("id", "");
  auto refund = refund_intent(stack(), id, 500);
  auto created = refund.value("created", int64_t{0});
  ASSERT_GT(created, 0) << refund.dump();
  auto count = [&](const std::string& query) {
    auto res = stack().api_get("/v1/refunds?" + query);
    EXPECT_EQ(res.status, 200) << query << " -> " << res.body;
    auto page = res.body_json();
    size_t n = 0;
    for (auto& r : page["data"]) {
      n += r.value("id", "") == refund.value("id", "") ? 1 : 0;
    }
    return n;
  };
  auto c = std::to_string(created);
  EXPECT_EQ(count("created=" + c), 1u);
  EXPECT_EQ(count("created[gte]=" + c), 1u);
  EXPECT_EQ(count("created[gt]=" + c), 0u);
  EXPECT_EQ(count("created[lt]=" + c), 0u);
  EXPECT_EQ(count("created[lte]=" + std::to_string(created - 1)), 0u);
  EXPECT_EQ(count("payment_intent=" + id + "&created[lte]=" + c), 1u);
  for (auto* bad : {"payment_intent[]=pi_none", "charge[0]=ch_none",
                    "payment_intent=a&payment_intent=b", "limit=1&limit=2"}) {
    EXPECT_EQ(stack().api_get(std::string{"/v1/refunds?"} + bad).status, 400)
      << bad;
  }
  EXPECT_EQ(stack().api_get("/v1/balance_transactions?type[]=charge").status,
            400);
  auto bogus = stack().api_get("/v1/balance_transactions?type=bogus");
  EXPECT_EQ(bogus.status, 400) << bogus.body;
  EXPECT_EQ(bogus.body_json()["error"].value("param", ""), "type");
  // A Stripe type this PSP never writes is a valid filter: an empty page.
  auto payouts = stack().api_get("/v1/balance_transactions?type=payout");
  EXPECT_EQ(payouts.status, 200) << payouts.body;
  EXPECT_TRUE(payouts.body_json()["data"].empty()) << payouts.body;
  auto refunds = stack().api_get("/v1/balance_transactions?type=refund");
  EXPECT_EQ(refunds.status, 200) << refunds.body;
  EXPECT_FALSE(refunds.body_json()["data"].empty()) << refunds.body;
  EXPECT_EQ(
    stack().api_get("/v1/events?types[]=charge.refunded&limit=1").status, 200);
  // An empty filter (an unset variable in the store's code) is refused, not
  // read as no filter.
  for (auto* empty : {"/v1/refunds?payment_intent=", "/v1/refunds?charge=",
                      "/v1/balance_transactions?source=",
                      "/v1/events?type="}) {
    auto res = stack().api_get(empty);
    EXPECT_EQ(res.status, 400) << empty << " -> " << res.body;
  }
  // Currencies are stored in lower case; a filter in upper case finds them.
  auto upper = stack().api_get("/v1/balance_transactions?currency=USD");
  ASSERT_EQ(upper.status, 200) << upper.body;
  EXPECT_FALSE(upper.body_json()["data"].empty()) << upper.body;
  // A currency no one can charge in is a typo, told as one.
  auto typo = stack().api_get("/v1/balance_transactions?currency=xxx");
  EXPECT_EQ(typo.status, 400) << typo.body;
  EXPECT_EQ(typo.body_json()["error"].value("param", ""), "currency");
}

TEST_F(api_edges, an_amex_card_without_cvc_is_accepted_through_the_api) {
  auto res = stack().api_post(
    "/v1/payment_intents",
    {{"amount", "1000"},
     {"currency", "usd"},
     {"confirm", "true"},
     {"payment_method_data[type]", "card"},
     {"payment_method_data[card][number]", "378282246310005"},
     {"payment_method_data[card][exp_month]", "12"},
     {"payment_method_data[card][exp_year]", "2040"}});
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.body.find("378282246310005"), std::string::npos);
}

TEST_F(api_edges, a_typed_card_is_a_payment_method_only_its_merchant_sees) {
  auto declined = stack().api_post(
    "/v1/payment_intents",
    {{"amount", "1000"},
     {"currency", "usd"},
     {"confirm", "true"},
     {"receipt_email", "shopper@example.com"},
     {"metadata[order]", "7"},
     {"metadata[empty]", ""},
     {"payment_method_data[type]", "card"},
     {"payment_method_data[card][number]", "4000000000000002"},
     {"payment_method_data[card][exp_month]", "7"},
     {"payment_method_data[card][exp_year]", "2041"}});
  ASSERT_EQ(declined.status, 402) << declined.body;
  auto err = declined.body_json()["error"];
  auto pi = err["payment_intent"];
  EXPECT_EQ(pi.value("receipt_email", ""), "shopper@example.com");
  EXPECT_EQ(pi["metadata"], json({{"order", "7"}})) << pi.dump();
  // The 402 names the declined card, as Stripe's does, and the intent no
  // longer does (a new confirm needs a card).
  EXPECT_TRUE(pi["payment_method"].is_null()) << declined.body;
  auto pm_id = err["payment_method"].value("id", "");
  ASSERT_EQ(pm_id.rfind("pm_", 0), 0u) << declined.body;
  EXPECT_EQ(err["payment_method"]["card"].value("last4", ""), "0002");

  auto got = stack().api_get("/v1/payment_methods/" + pm_id);
  ASSERT_EQ(got.status, 200) << got.body;
  auto card = got.body_json()["card"];
  EXPECT_EQ(card.value("exp_month", 0), 7);
  EXPECT_EQ(card.value("exp_year", 0), 2041);
  EXPECT_EQ(got.body.find("4000000000000002"), std::string::npos);

  auto other = stack().create_merchant("Edge Card Other");
  auto foreign = stack().api_get("/v1/payment_methods/" + pm_id, 0,
                                 other.secret_key);
  EXPECT_EQ(foreign.status, 404) << foreign.body;
  // It cannot pay again (the number is gone), and the answer says so; to
  // another merchant it does not exist.
  form_fields again{{"amount", "1000"}, {"currency", "usd"},
                    {"confirm", "true"}, {"payment_method", pm_id}};
  auto reused = stack().api_post("/v1/payment_intents", again);
  EXPECT_EQ(reused.status, 400) << reused.body;
  EXPECT_NE(reused.body.find("cannot be used again"), std::string::npos)
    << reused.body;
  auto elsewhere = stack().api_post("/v1/payment_intents", again, 0,
                                    other.secret_key);
  EXPECT_EQ(elsewhere.status, 400) << elsewhere.body;
  EXPECT_EQ(elsewhere.body_json()["error"].value("code", ""),
            "resource_missing") << elsewhere.body;
  EXPECT_EQ(stack().api_get("/v1/payment_methods/pm_nothing").status, 404);
  // An id no object can have is missing too, not an unknown URL.
  auto odd = stack().api_get("/v1/payment_methods/pm_%C3%A9");
  EXPECT_EQ(odd.status, 404);
  EXPECT_EQ(odd.body_json()["error"].value("code", ""), "resource_missing")
    << odd.body;
  EXPECT_EQ(http_get(stack().node_url(), "/v1/payment_methods/pm_%C3%A9")
              .status,
            401);
  // A confirm with a test id keeps that id.
  auto paid = create_intent(stack(), 900);
  EXPECT_EQ(paid.value("payment_method", ""), "pm_card_visa") << paid.dump();
  auto test_pm = stack().api_get("/v1/payment_methods/pm_card_visa");
  ASSERT_EQ(test_pm.status, 200) << test_pm.body;
  EXPECT_EQ(test_pm.body_json()["card"].value("last4", ""), "4242");
}

TEST_F(api_edges, confirm_updates_the_receipt_email) {
  auto created = stack().api_post("/v1/payment_intents",
                                  {{"amount", "1500"},
                                   {"currency", "usd"},
                                   {"receipt_email", "old@example.com"}});
  ASSERT_EQ(created.status, 200) << created.body;
  auto id = created.body_json().value("id", "");
  auto bad = stack().api_post("/v1/payment_intents/" + id + "/confirm",
                              {{"payment_method", "pm_card_visa"},
                               {"receipt_email", "notanemail"}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.body_json()["error"].value("param", ""), "receipt_email");
  auto ok = stack().api_post("/v1/payment_intents/" + id + "/confirm",
                             {{"payment_method", "pm_card_visa"},
                              {"receipt_email", "new@example.com"}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.body_json().value("receipt_email", ""), "new@example.com");
}

TEST_F(api_edges, a_session_past_its_expires_at_is_the_sweeps_to_expire) {
  // A merchant of its own: no webhook endpoint of the other tests hears
  // (and dead-letters) its expiry event.
  auto own = stack().create_merchant("Edge Expiry");
  auto created = stack().api_post(
    "/v1/checkout/sessions",
    {{"mode", "payment"},
     {"success_url", "http://127.0.0.1:9/ok"},
     {"line_items[0][price_data][currency]", "usd"},
     {"line_items[0][price_data][unit_amount]", "900"},
     {"line_items[0][price_data][product_data][name]", "Lapsed"},
     {"line_items[0][quantity]", "1"}},
    0, own.secret_key);
  ASSERT_EQ(created.status, 200) << created.body;
  auto id = created.body_json().value("id", "");
  // As if its time had passed: the field and its entry in the sweep's set.
  auto past = std::to_string(now_s() - 10);
  stack().redis_cmd({"HSET", "cs:" + id, "expires_at", past});
  stack().redis_cmd({"ZADD", "sessions:expiring", past, id});
  // Lapsed: not the endpoint's to expire, whether the sweep ran yet or not.
  auto res = stack().api_post("/v1/checkout/sessions/" + id + "/expire", {},
                              0, own.secret_key);
  EXPECT_EQ(res.status, 400) << res.body;
  EXPECT_EQ(res.body_json()["error"]["code"],
            "checkout_session_unexpected_state");
  // The node's sweep expires it, with one event.
  EXPECT_TRUE(wait_until(
    [&] {
      return stack()
               .api_get("/v1/checkout/sessions/" + id, 0, own.secret_key)
               .body_json()
               .value("status", "")
             == "expired";
    },
    10s));
  auto events =
    stack()
      .api_get("/v1/events?type=checkout.session.expired&limit=100", 0,
               own.secret_key)
      .body_json();
  int about = 0;
  for (auto& e : events["data"]) {
    about += e["data"]["object"].value("id", "") == id ? 1 : 0;
  }
  EXPECT_EQ(about, 1);
}

TEST_F(api_edges, dead_letters_come_in_pages) {
  // Earlier tests' webhooks to unreachable endpoints are dead-lettered a
  // moment after those tests end: once every delivery is final, the stream
  // holds only what this test plants.
  ASSERT_TRUE(wait_until(
    [&] {
      auto due = stack().redis_cmd({"ZCARD", "webhooks:due"});
      auto claimed = stack().redis_cmd({"HLEN", "webhooks:claims"});
      return due && due->number == 0 && claimed && claimed->number == 0;
    },
    10s));
  stack().redis_cmd({"DEL", "stream:deadletter"});
  for (int i = 0; i < 5; ++i) {
    stack().redis_cmd({"XADD", "stream:deadletter", "*", "kind", "webhook",
                       "ref", "evt_page" + std::to_string(i), "reason",
                       "planted", "created",
                       std::to_string(1796114900 + i)});
  }
  auto page = [&](const std::string& query) {
    return http_get(stack().node_url(), "/admin/dead_letters" + query,
                    stack().admin_token());
  };
  std::vector<std::string> refs;
  std::string after;
  for (int round = 0; round < 5; ++round) {
    auto res = page("?limit=2" + (after.empty() ? "" : "&starting_after="
                                                           + after));
    ASSERT_EQ(res.status, 200) << res.body;
    auto doc = res.body_json();
    EXPECT_EQ(doc.value("total_count", 0), 5) << res.body;
    for (auto& e : doc["data"]) {
      refs.push_back(e.value("ref", ""));
      after = e.value("id", "");
      // A time is an integer, as in every other object.
      EXPECT_EQ(e["created"],
                json(1796114900 + static_cast<int64_t>(refs.size()) - 1))
        << e.dump();
      EXPECT_EQ(e.value("object", ""), "dead_letter") << e.dump();
    }
    if (!doc.value("has_more", false)) {
      break;
    }
  }
  EXPECT_EQ(refs, (std::vector<std::string>{"evt_page0", "evt_page1",
                                            "evt_page2", "evt_page3",
                                            "evt_page4"}));
  EXPECT_EQ(page("?limit=0").status, 400);
  EXPECT_EQ(page("?limit=1001").status, 400);
  EXPECT_EQ(page("?starting_after=abc").status, 400);
}

TEST_F(api_edges, the_hosted_page_cannot_be_framed_by_another_site) {
  auto cs = stack().create_session();
  auto page = http_get(stack().node_url(),
                       "/pay/" + cs["id"].get<std::string>(), {});
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.header("X-Frame-Options"), "DENY");
  EXPECT_NE(page.header("Content-Security-Policy")
              .find("frame-ancestors 'none'"),
            std::string::npos)
    << page.header("Content-Security-Policy");
  // Its scripts run by their hashes, not any inline script (decision 64).
  EXPECT_NE(page.header("Content-Security-Policy").find("script-src 'sha256-"),
            std::string::npos);
  EXPECT_EQ(page.header("Content-Security-Policy").find("unsafe-inline"),
            std::string::npos);
}

TEST_F(api_edges, a_refund_without_amount_racing_a_partial_one_takes_the_rest) {
  // The caller of a refund without an amount asks for "the rest"; one
  // reserved meanwhile must shrink it, never make it amount_too_large.
  for (int round = 0; round < 8; ++round) {
    auto pi = create_intent(stack(), 1000);
    ASSERT_EQ(pi.value("status", ""), "succeeded") << pi.dump();
    auto id = pi.value("id", "");
    http_reply partial;
    http_reply rest;
    std::thread a{[&] {
      partial = stack().api_post("/v1/refunds",
                                 {{"payment_intent", id}, {"amount", "400"}});
    }};
    std::thread b{[&] {
      rest = stack().api_post("/v1/refunds", {{"payment_intent", id}});
    }};
    a.join();
    b.join();
    ASSERT_EQ(rest.status, 200) << rest.body;
    auto refunded = rest.body_json().value("amount", int64_t{0});
    if (partial.status == 200) {
      EXPECT_EQ(refunded, 600) << rest.body;
    } else {
      EXPECT_EQ(refunded, 1000) << rest.body;
      EXPECT_EQ(partial.status, 400) << partial.body;
    }
  }
}

TEST_F(api_edges, a_refund_of_what_pending_refunds_reserved_says_so) {
  auto pi = create_intent(stack(), 1000);
  ASSERT_EQ(pi.value("status", ""), "succeeded") << pi.dump();
  auto id = pi.value("id", "");
  // A slow network keeps the full refund pending past the request's wait.
  ASSERT_EQ(stack().sim_faults({{"latency_ms", 4000}}).status, 200);
  auto full = stack().api_post("/v1/refunds", {{"payment_intent", id}});
  auto again = stack().api_post("/v1/refunds", {{"payment_intent", id}});
  ASSERT_EQ(stack().sim_faults({{"latency_ms", 0}}).status, 200);
  ASSERT_EQ(full.status, 200) << full.body;
  ASSERT_EQ(full.body_json().value("status", ""), "pending") << full.body;
  EXPECT_EQ(again.status, 400) << again.body;
  auto err = again.body_json()["error"];
  EXPECT_EQ(err.value("code", ""), "charge_already_refunded");
  EXPECT_NE(err.value("message", "").find("still pending"), std::string::npos)
    << again.body;
}

TEST_F(api_edges, capture_merges_metadata_and_refuses_a_non_hash) {
  auto made = stack().api_post("/v1/payment_intents",
                               {{"amount", "1200"},
                                {"currency", "usd"},
                                {"confirm", "true"},
                                {"capture_method", "manual"},
                                {"payment_method", "pm_card_visa"},
                                {"metadata[order]", "42"},
                                {"metadata[note]", "gift"}});
  ASSERT_EQ(made.status, 200) << made.body;
  auto id = made.body_json().value("id", "");
  auto held = wait_intent(stack(), id);
  ASSERT_EQ(held.value("status", ""), "requires_capture") << held.dump();

  // What is captured is charged: at least the minimum, at most what is held.
  for (auto [amount, code] : {std::pair{"49", "amount_too_small"},
                              std::pair{"1201", "amount_too_large"}}) {
    auto refused = stack().api_post("/v1/payment_intents/" + id + "/capture",
                                    {{"amount_to_capture", amount}});
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_EQ(refused.body_json()["error"].value("code", ""), code)
      << refused.body;
    EXPECT_EQ(refused.body_json()["error"].value("param", ""),
              "amount_to_capture");
  }
  // Nothing captured yet to refund: the error names the parameter used.
  for (auto [param, value] :
       {std::pair<std::string, std::string>{"payment_intent", id},
        {"charge", held.value("latest_charge", "")}}) {
    auto early = stack().api_post("/v1/refunds", {{param, value}});
    EXPECT_EQ(early.status, 400) << early.body;
    EXPECT_EQ(early.body_json()["error"].value("code", ""),
              "charge_not_captured")
      << early.body;
    EXPECT_EQ(early.body_json()["error"].value("param", ""), param);
  }
  auto bad = stack().api_post("/v1/payment_intents/" + id + "/capture",
                              {{"metadata", "oops"}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.body_json()["error"].value("param", ""), "metadata")
    << bad.body;
  EXPECT_EQ(stack().api_get("/v1/payment_intents/" + id)
              .body_json()
              .value("status", ""),
            "requires_capture");

  // An empty value unsets its key; the others are merged in.
  auto done = stack().api_post("/v1/payment_intents/" + id + "/capture",
                               {{"metadata[note]", ""},
                                {"metadata[shipped]", "yes"}});
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(done.body_json().value("status", ""), "succeeded") << done.body;
  EXPECT_EQ(done.body_json()["metadata"],
            json({{"order", "42"}, {"shipped", "yes"}}))
    << done.body;
  EXPECT_EQ(stack().api_get("/v1/payment_intents/" + id).body_json()["metadata"],
            json({{"order", "42"}, {"shipped", "yes"}}));
}

/// Voids the authorisation of `intent` at the card network itself, as an
/// issuer does when it lapses.
void void_at_network(psp_stack& stack, const json& intent) {
  http_request req;
  req.method = "POST";
  req.path = "/v1/charges/" + intent.value("latest_charge", "") + "/void";
  req.content_type = "application/x-www-form-urlencoded";
  req.headers.emplace_back("Idempotency-Key",
                           "lapse-" + intent.value("id", ""));
  auto voided = http_call(stack.sim_url(), req);
  ASSERT_EQ(voided.status, 200) << voided.body;
}

TEST_F(api_edges, an_authorization_gone_at_the_network_cancels_the_intent) {
  // Capture: refused for good, 400 (not a card error), the intent canceled
  // and its hold released instead of being stuck in requires_capture.
  auto pi = create_intent(stack(), 1700, "usd", true);
  ASSERT_EQ(pi.value("status", ""), "requires_capture") << pi.dump();
  void_at_network(stack(), pi);
  if (HasFatalFailure()) {
    return;
  }
  auto id = pi.value("id", "");
  // The request ran its network step: a retry with the key replays the
  // refusal (not the canceled state it left), and a refused capture's
  // metadata is not applied.
  auto keyed = keyed_post(stack(), "/v1/payment_intents/" + id + "/capture",
                          {{"metadata[shipped]", "yes"}}, "lapsed-" + id);
  auto cap = http_call(stack().node_url(), keyed);
  EXPECT_EQ(cap.status, 400) << cap.body;
  auto err = cap.body_json()["error"];
  EXPECT_EQ(err.value("type", ""), "invalid_request_error") << cap.body;
  EXPECT_EQ(err.value("code", ""), "charge_expired_for_capture") << cap.body;
  EXPECT_EQ(err["payment_intent"].value("status", ""), "canceled") << cap.body;
  EXPECT_EQ(err["payment_intent"]["metadata"], json::object()) << cap.body;
  auto again = http_call(stack().node_url(), keyed);
  EXPECT_EQ(again.status, 400) << again.body;
  EXPECT_EQ(again.body, cap.body);
  EXPECT_EQ(again.headers.count("Idempotent-Replayed"), 1u);
  auto now = stack().api_get("/v1/payment_intents/" + id).body_json();
  EXPECT_EQ(now.value("status", ""), "canceled") << now.dump();
  EXPECT_EQ(now.value("cancellation_reason", ""), "automatic") << now.dump();
  EXPECT_EQ(now.value("amount_capturable", -1), 0) << now.dump();
  EXPECT_EQ(now.value("amount_received", -1), 0) << now.dump();
  // Nothing to refund; the error names the intent as it stands.
  auto refund = stack().api_post("/v1/refunds", {{"payment_intent", id}});
  EXPECT_EQ(refund.status, 400) << refund.body;
  EXPECT_EQ(refund.body_json()["error"].value("code", ""),
            "payment_intent_unexpected_state")
    << refund.body;
  EXPECT_EQ(refund.body_json()["error"]["payment_intent"].value("status", ""),
            "canceled")
    << refund.body;

  // Cancel: what it asked for is done; the answer is the canceled intent.
  auto other = create_intent(stack(), 900, "usd", true);
  ASSERT_EQ(other.value("status", ""), "requires_capture") << other.dump();
  void_at_network(stack(), other);
  if (HasFatalFailure()) {
    return;
  }
  auto cancel = stack().api_post(
    "/v1/payment_intents/" + other.value("id", "") + "/cancel", {});
  EXPECT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(cancel.body_json().value("status", ""), "canceled") << cancel.body;

  // Both holds released: the books agree with the intents again.
  EXPECT_TRUE(stack().ledger_balanced());
  auto verified = run_to_exit({psp_admin_binary(), "--redis",
                               stack().redis_address(), "verify-ledger"},
                              30s);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
}

TEST_F(api_edges, a_capture_still_at_the_network_is_not_replayed_stale) {
  auto pi = create_intent(stack(), 1300, "usd", true);
  ASSERT_EQ(pi.value("status", ""), "requires_capture") << pi.dump();
  auto id = pi.value("id", "");
  // Longer than the API waits for the network (confirm-wait-ms, 3 s).
  stack().sim_faults({{"latency_ms", 5000}});
  auto keyed = keyed_post(stack(), "/v1/payment_intents/" + id + "/capture",
                          {}, "slow-" + id);
  auto first = http_call(stack().node_url(), keyed);
  stack().sim_faults({{"latency_ms", 0}});
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.body_json().value("status", ""), "requires_capture")
    << "the outcome is not known yet: " << first.body;
  // Another capture meanwhile is told to retry shortly, with the header
  // Stripe's clients retry a 429 on.
  auto other = stack().api_post("/v1/payment_intents/" + id + "/capture", {});
  EXPECT_EQ(other.status, 429) << other.body;
  EXPECT_EQ(other.body_json()["error"].value("code", ""), "lock_timeout");
  EXPECT_EQ(other.header("Stripe-Should-Retry"), "true");
  // The retry with the key answers the capture's outcome, not that
  // snapshot: the same capture (no second one at the network).
  http_reply retried;
  wait_until(
    [&] {
      retried = http_call(stack().node_url(), keyed);
      return retried.body_json().value("status", "") == "succeeded";
    },
    15s, 200ms);
  EXPECT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.body_json().value("status", ""), "succeeded")
    << retried.body;
  EXPECT_EQ(retried.body_json().value("amount_received", 0), 1300);
  // Stored now: replayed byte for byte.
  auto replayed = http_call(stack().node_url(), keyed);
  EXPECT_EQ(replayed.body, retried.body);
  EXPECT_EQ(replayed.headers.count("Idempotent-Replayed"), 1u);
  EXPECT_TRUE(stack().ledger_balanced());
}

TEST_F(api_edges, a_declined_test_payment_method_shows_its_expiry_everywhere) {
  // A pm_card_* keeps no expiry on its attempt: the intent's
  // last_payment_error showed null where the 402 showed 12/<year + 3>.
  auto declined = stack().api_post("/v1/payment_intents",
                                   {{"amount", "1000"},
                                    {"currency", "usd"},
                                    {"confirm", "true"},
                                    {"payment_method", "pm_card_chargeDeclined"}});
  ASSERT_EQ(declined.status, 402) << declined.body;
  auto in_error = declined.body_json()["error"]["payment_method"]["card"];
  EXPECT_EQ(in_error.value("exp_month", 0), 12) << declined.body;
  auto pi = declined.body_json()["error"]["payment_intent"].value("id", "");
  auto intent = stack().api_get("/v1/payment_intents/" + pi).body_json();
  auto on_intent = intent["last_payment_error"]["payment_method"]["card"];
  EXPECT_EQ(on_intent.value("exp_month", 0), 12) << intent.dump();
  EXPECT_EQ(on_intent.value("exp_year", 0), in_error.value("exp_year", -1))
    << intent.dump();
}

TEST_F(api_edges, a_charge_names_its_balance_transaction_as_stripe_does) {
  auto txn_of = [&](const std::string& charge) {
    auto list = stack().api_get("/v1/balance_transactions?source=" + charge)
                  .body_json();
    EXPECT_EQ(list["data"].size(), 1u) << list.dump();
    return list["data"].empty() ? std::string{}
                                : list["data"][0].value("id", "");
  };
  // Automatic capture: the sale's transaction at once.
  auto paid = create_intent(stack(), 1800);
  auto charge_id = paid.value("latest_charge", "");
  auto charge = stack().api_get("/v1/charges/" + charge_id).body_json();
  EXPECT_EQ(charge.value("balance_transaction", ""), txn_of(charge_id))
    << charge.dump();
  // Always an object, as integrations read billing_details.email.
  EXPECT_TRUE(charge["billing_details"].is_object()) << charge.dump();
  EXPECT_TRUE(charge["billing_details"]["email"].is_null());
  EXPECT_TRUE(charge["customer"].is_null());
  EXPECT_EQ(charge["outcome"].value("type", ""), "authorized");
  // Manual capture: none while held, the capture's once captured.
  auto held = create_intent(stack(), 2400, "usd", true);
  auto held_charge = held.value("latest_charge", "");
  EXPECT_TRUE(stack().api_get("/v1/charges/" + held_charge)
                .body_json()["balance_transaction"]
                .is_null());
  auto done = stack().api_post(
    "/v1/payment_intents/" + held.value("id", "") + "/capture", {});
  ASSERT_EQ(done.status, 200) << done.body;
  auto captured = stack().api_get("/v1/charges/" + held_charge).body_json();
  EXPECT_EQ(captured.value("balance_transaction", ""), txn_of(held_charge))
    << captured.dump();
}

form_fields typed_card_with_billing(const std::string& number,
                                    const form_fields& billing) {
  form_fields out{{"amount", "2000"},
                  {"currency", "usd"},
                  {"confirm", "true"},
                  {"payment_method_data[type]", "card"},
                  {"payment_method_data[card][number]", number},
                  {"payment_method_data[card][exp_month]", "12"},
                  {"payment_method_data[card][exp_year]", "2040"},
                  {"payment_method_data[card][cvc]", "123"}};
  for (auto& [key, value] : billing) {
    out.emplace_back("payment_method_data[billing_details]" + key, value);
  }
  return out;
}

TEST_F(api_edges, billing_details_sent_with_a_card_show_on_its_charge_and_card) {
  const form_fields jenny{{"[name]", "Jenny Rosen"},
                          {"[email]", "jenny@example.com"},
                          {"[phone]", "+1 415 555 0100"},
                          {"[address][line1]", "510 Townsend St"},
                          {"[address][postal_code]", "94103"},
                          {"[address][country]", "us"}};
  auto paid = stack().api_post("/v1/payment_intents",
                               typed_card_with_billing("4242424242424242",
                                                       jenny));
  ASSERT_EQ(paid.status, 200) << paid.body;
  auto pi = paid.body_json();
  auto expect_jenny = [](const json& details, const std::string& where) {
    EXPECT_EQ(details.value("name", ""), "Jenny Rosen") << where;
    EXPECT_EQ(details.value("email", ""), "jenny@example.com") << where;
    EXPECT_EQ(details.value("phone", ""), "+1 415 555 0100") << where;
    EXPECT_EQ(details["address"].value("country", ""), "US") << where;
    EXPECT_EQ(details["address"].value("line1", ""), "510 Townsend St")
      << where;
    // What was not sent is null, never absent.
    EXPECT_TRUE(details["address"].contains("city")) << where;
    EXPECT_TRUE(details["address"]["city"].is_null()) << where;
  };
  auto charge = stack().api_get("/v1/charges/" + pi.value("latest_charge", ""))
                  .body_json();
  expect_jenny(charge["billing_details"], charge.dump());
  auto card = stack().api_get("/v1/payment_methods/"
                              + pi.value("payment_method", ""));
  ASSERT_EQ(card.status, 200) << card.body;
  expect_jenny(card.body_json()["billing_details"], card.body);

  // A declined card's details are in the error; the next card's (none
  // here) replace them on the intent, so the charge shows no stale name.
  auto declined = stack().api_post(
    "/v1/payment_intents",
    typed_card_with_billing("4000000000000002",
                            {{"[name]", "Jenny Rosen"},
                             {"[phone]", "+44 7911 123456"}}));
  ASSERT_EQ(declined.status, 402) << declined.body;
  auto err = declined.body_json()["error"];
  EXPECT_EQ(err["payment_method"]["billing_details"].value("name", ""),
            "Jenny Rosen")
    << declined.body;
  // As stored, as a retrieve shows it: the error's masking of what a
  // client sent leaves the objects a card error carries alone.
  EXPECT_EQ(err["payment_method"]["billing_details"].value("phone", ""),
            "+44 7911 123456")
    << declined.body;
  auto intent_id = err["payment_intent"].value("id", "");
  auto intent = stack().api_get("/v1/payment_intents/" + intent_id).body_json();
  EXPECT_EQ(intent["last_payment_error"]["payment_method"]["billing_details"]
              .value("name", ""),
            "Jenny Rosen")
    << intent.dump();
  auto retried = stack().api_post("/v1/payment_intents/" + intent_id
                                    + "/confirm",
                                  {{"payment_method", "pm_card_visa"}});
  ASSERT_EQ(retried.status, 200) << retried.body;
  auto second = stack().api_get("/v1/charges/"
                                + retried.body_json().value("latest_charge",
                                                            ""))
                  .body_json();
  EXPECT_TRUE(second["billing_details"]["name"].is_null()) << second.dump();
}

TEST_F(api_edges, billing_details_that_cannot_be_kept_are_refused) {
  // A merchant of its own, so its list shows what these requests wrote.
  auto key = stack().create_merchant("Edge Billing").secret_key;
  struct bad {
    form_fields billing;
    std::string param;
  };
  const std::vector<bad> cases{
    {{{"[nickname]", "J"}}, "payment_method_data[billing_details][nickname]"},
    {{{"[address][street]", "x"}},
     "payment_method_data[billing_details][address][street]"},
    {{{"[email]", "not an address"}},
     "payment_method_data[billing_details][email]"},
    {{{"[address][country]", "USA"}},
     "payment_method_data[billing_details][address][country]"},
    // A form that put the card in the wrong box: refused, never stored
    // or echoed.
    {{{"[name]", "4242 4242 4242 4242"}},
     "payment_method_data[billing_details][name]"},
    {{{"[address][line2]", "card 4000-0566-5566-5556 exp 12/40"}},
     "payment_method_data[billing_details][address][line2]"},
    {{{"[phone]", "+1 4242424242424242"}},
     "payment_method_data[billing_details][phone]"},
    {{{"[email]", "4242.4242.4242.4242@example.com"}},
     "payment_method_data[billing_details][email]"},
    {{{"[name]", std::string(5001, 'a')}},
     "payment_method_data[billing_details][name]"},
  };
  for (auto& c : cases) {
    auto res = stack().api_post("/v1/payment_intents",
                                typed_card_with_billing("4242424242424242",
                                                        c.billing),
                                0, key);
    EXPECT_EQ(res.status, 400) << c.param << ": " << res.body;
    EXPECT_EQ(res.body_json()["error"].value("param", ""), c.param) << res.body;
    EXPECT_EQ(res.body.find("4242 4242 4242 4242"), std::string::npos);
    EXPECT_EQ(res.body.find("4000-0566-5566-5556"), std::string::npos);
    EXPECT_EQ(res.body.find("4242424242424242"), std::string::npos);
    EXPECT_EQ(res.body.find("4242.4242.4242.4242"), std::string::npos);
  }
  // The same holds for the receipt address, kept on the intent.
  auto receipt = stack().api_post(
    "/v1/payment_intents",
    {{"amount", "2000"}, {"currency", "usd"},
     {"receipt_email", "4242424242424242@example.com"}},
    0, key);
  EXPECT_EQ(receipt.status, 400) << receipt.body;
  EXPECT_EQ(receipt.body_json()["error"].value("param", ""), "receipt_email");
  EXPECT_EQ(receipt.body.find("4242424242424242"), std::string::npos);
  // An echo is masked as the client sent it: a tab the JSON escapes as
  // "\t" still joins the groups.
  auto echoed = stack().api_post(
    "/v1/payment_intents",
    {{"amount", "2000"}, {"currency", "usd"}, {"4242\t4242\t4242\t4242", "x"}},
    0, key);
  EXPECT_EQ(echoed.status, 400) << echoed.body;
  EXPECT_EQ(echoed.body.find("4242\\t4242\\t4242"), std::string::npos)
    << echoed.body;
  EXPECT_NE(echoed.body.find("****\\t****\\t****\\t4242"), std::string::npos)
    << echoed.body;
  auto written = stack().api_get("/v1/payment_intents", 0, key);
  EXPECT_TRUE(written.body_json()["data"].empty()) << written.body;
}

TEST_F(api_edges, an_idempotency_key_holding_a_card_number_is_kept_hashed) {
  // A client may put a card number anywhere, the key too: it still works
  // as a key, and Redis holds no key name with the number in it.
  auto req = keyed_post(stack(), "/v1/payment_intents",
                        {{"amount", "1900"}, {"currency", "usd"}},
                        "4000 0566 5566 5556");
  auto first = http_call(stack().node_url(), req);
  ASSERT_EQ(first.status, 200) << first.body;
  auto again = http_call(stack().node_url(), req);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(again.body_json().value("id", ""), first.body_json().value("id", ""));
  EXPECT_TRUE(stack().redis_keys("*0566 5566*").empty());
  EXPECT_FALSE(stack().redis_keys("idem:*:#*").empty());
  // An empty value unsets, as in Stripe's API; a phone number written with
  // its country code is a phone number, even one whose thirteen digits
  // pass the Luhn check as a card's would.
  auto fine = stack().api_post(
    "/v1/payment_intents",
    typed_card_with_billing("4242424242424242",
                            {{"[address]", ""}, {"[phone]", "+86 139 1234 5677"}}));
  ASSERT_EQ(fine.status, 200) << fine.body;
  auto card = stack().api_get("/v1/payment_methods/"
                              + fine.body_json().value("payment_method", ""))
                .body_json();
  EXPECT_EQ(card["billing_details"].value("phone", ""), "+86 139 1234 5677");
  EXPECT_TRUE(card["billing_details"]["address"]["line1"].is_null());
}

TEST_F(api_edges, posts_expand_their_answers_as_retrieves_do) {
  // stripe.paymentIntents.create({..., expand: ['latest_charge...']}).
  auto create = keyed_post(stack(), "/v1/payment_intents",
                           {{"amount", "2300"},
                            {"currency", "usd"},
                            {"confirm", "true"},
                            {"payment_method", "pm_card_visa"},
                            {"expand[0]", "latest_charge.balance_transaction"}},
                           "edge-expand-create-1");
  auto paid = http_call(stack().node_url(), create);
  ASSERT_EQ(paid.status, 200) << paid.body;
  auto charge = paid.body_json()["latest_charge"];
  ASSERT_TRUE(charge.is_object()) << paid.body;
  EXPECT_EQ(charge.value("object", ""), "charge");
  EXPECT_EQ(charge["balance_transaction"].value("object", ""),
            "balance_transaction")
    << paid.body;
  // The replay under the same key expands too.
  auto again = http_call(stack().node_url(), create);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(again.body_json()["latest_charge"].value("id", ""),
            charge.value("id", ""))
    << again.body;
  // A refund, and a checkout session on create.
  auto refund = stack().api_post(
    "/v1/refunds", {{"payment_intent", paid.body_json().value("id", "")},
                    {"amount", "300"},
                    {"expand[]", "charge"}});
  ASSERT_EQ(refund.status, 200) << refund.body;
  EXPECT_EQ(refund.body_json()["charge"].value("amount_refunded", 0), 300)
    << refund.body;
  auto session = stack().create_session(1200, 1, {{"expand[]", "payment_intent"}});
  EXPECT_EQ(session["payment_intent"].value("object", ""), "payment_intent")
    << session.dump();
  // A path that cannot be is a 400 before anything runs.
  auto other = stack().create_merchant("Edge Expand Other");
  auto bad = stack().api_post("/v1/payment_intents",
                              {{"amount", "2300"},
                               {"currency", "usd"},
                               {"expand[]", "customer"}},
                              0, other.secret_key);
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.body_json()["error"].value("param", ""), "expand");
  EXPECT_TRUE(stack().api_get("/v1/payment_intents", 0, other.secret_key)
                .body_json()["data"]
                .empty())
    << "nothing was created";
}

TEST_F(api_edges, retrieves_expand_what_integrations_ask_for) {
  auto paid = create_intent(stack(), 2100);
  auto pi = paid.value("id", "");
  auto charge_id = paid.value("latest_charge", "");
  // As stripe-node spells it: expand[0]=..., nested by dots.
  auto intent = stack()
                  .api_get("/v1/payment_intents/" + pi
                           + "?expand[0]=latest_charge.balance_transaction"
                             "&expand[1]=payment_method")
                  .body_json();
  ASSERT_TRUE(intent["latest_charge"].is_object()) << intent.dump();
  EXPECT_EQ(intent["latest_charge"].value("id", ""), charge_id);
  auto txn = intent["latest_charge"]["balance_transaction"];
  ASSERT_TRUE(txn.is_object()) << intent.dump();
  EXPECT_EQ(txn.value("object", ""), "balance_transaction");
  EXPECT_EQ(txn.value("source", ""), charge_id);
  EXPECT_EQ(txn.value("amount", 0) - txn.value("fee", 0), txn.value("net", -1));
  EXPECT_EQ(intent["payment_method"].value("object", ""), "payment_method")
    << intent.dump();
  // Without expand: ids, as before.
  EXPECT_TRUE(stack().api_get("/v1/payment_intents/" + pi)
                .body_json()["latest_charge"]
                .is_string());

  auto charge = stack()
                  .api_get("/v1/charges/" + charge_id
                           + "?expand[]=payment_intent&expand[]=balance_transaction")
                  .body_json();
  EXPECT_EQ(charge["payment_intent"].value("id", ""), pi) << charge.dump();
  EXPECT_EQ(charge["balance_transaction"].value("id", ""), txn.value("id", ""));

  auto refund = refund_intent(stack(), pi, 700);
  auto re = stack()
              .api_get("/v1/refunds/" + refund.value("id", "")
                       + "?expand[]=charge&expand[]=payment_intent")
              .body_json();
  EXPECT_EQ(re["charge"].value("amount_refunded", 0), 700) << re.dump();
  EXPECT_EQ(re["payment_intent"].value("id", ""), pi) << re.dump();

  // A session's intent; an id that is null (no charge yet) stays null.
  auto session = stack().create_session(1500);
  auto cs = stack()
              .api_get("/v1/checkout/sessions/"
                       + session["id"].get<std::string>()
                       + "?expand[]=payment_intent.latest_charge")
              .body_json();
  EXPECT_EQ(cs["payment_intent"].value("object", ""), "payment_intent")
    << cs.dump();
  EXPECT_TRUE(cs["payment_intent"]["latest_charge"].is_null()) << cs.dump();

  // What cannot be expanded is said, never left an id silently.
  for (auto* path : {"customer", "latest_charge.customer", "latest_charge.",
                     "a.b.c.d.e"}) {
    auto bad = stack().api_get("/v1/payment_intents/" + pi + "?expand[]="
                               + path);
    EXPECT_EQ(bad.status, 400) << path << ": " << bad.body;
    EXPECT_EQ(bad.body_json()["error"].value("param", ""), "expand") << path;
  }
  // Nor a spelling no client sends, nor an endpoint where nothing expands.
  for (auto* query : {"expand[abc]=latest_charge", "expand[][]=latest_charge",
                      "expand[-1]=customer"}) {
    auto odd = stack().api_get("/v1/payment_intents/" + pi + "?" + query);
    EXPECT_EQ(odd.status, 400) << query << ": " << odd.body;
  }
  for (auto path : {"/v1/balance_transactions/" + txn.value("id", ""),
                    std::string{"/v1/balance"},
                    std::string{"/v1/payment_intents"}}) {
    auto elsewhere = stack().api_get(path + "?expand[]=source");
    EXPECT_EQ(elsewhere.status, 400) << path << ": " << elsewhere.body;
    EXPECT_EQ(elsewhere.body_json()["error"].value("param", ""), "expand");
  }
}

} // namespace
} // namespace psp::test
