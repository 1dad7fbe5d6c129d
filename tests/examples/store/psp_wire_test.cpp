// Checks the PSP wire format: form encoding of the checkout request (with
// the {CHECKOUT_SESSION_ID} placeholder) and parsing of PSP answers.
#include "psp_wire.hpp"

#include <gtest/gtest.h>

using namespace store;

TEST(psp_wire, form_encoding_escapes_everything_but_unreserved) {
  EXPECT_EQ(form_encode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(form_encode("a b&c=d"), "a%20b%26c%3Dd");
  EXPECT_EQ(form_encode("{CHECKOUT_SESSION_ID}"), "%7BCHECKOUT_SESSION_ID%7D");
  EXPECT_EQ(form_encode("caf\xc3\xa9"), "caf%C3%A9");
  EXPECT_EQ(form_encode("x[0]"), "x%5B0%5D");
  EXPECT_EQ(form_encode("x[0]", true), "x[0]");
}

TEST(psp_wire, checkout_form_matches_the_contract) {
  // The Idempotency-Key goes in a header, never into the form.
  checkout_request req{"ord_3",     "Mug & Co", 1250,
                       2,           "usd",      "http://127.0.0.1:9000",
                       "a1b2-ord_3"};
  auto body = encode_form(checkout_form(req));
  EXPECT_EQ(body,
            "mode=payment"
            "&success_url=http%3A%2F%2F127.0.0.1%3A9000%2Fsuccess%3Fsession_id"
            "%3D%7BCHECKOUT_SESSION_ID%7D"
            "&cancel_url=http%3A%2F%2F127.0.0.1%3A9000%2Forders%2Ford_3"
            "&client_reference_id=ord_3"
            "&metadata[order_id]=ord_3"
            "&line_items[0][price_data][currency]=usd"
            "&line_items[0][price_data][product_data][name]=Mug%20%26%20Co"
            "&line_items[0][price_data][unit_amount]=1250"
            "&line_items[0][quantity]=2");
  // And it decodes back to the same fields.
  auto fields = decode_form(body);
  EXPECT_EQ(form_value(fields, "success_url"),
            "http://127.0.0.1:9000/success?session_id={CHECKOUT_SESSION_ID}");
  EXPECT_EQ(form_value(fields, "line_items[0][price_data][product_data][name]"),
            "Mug & Co");
}

TEST(psp_wire, webhook_endpoint_form) {
  EXPECT_EQ(encode_form(webhook_endpoint_form("http://127.0.0.1:9000")),
            "url=http%3A%2F%2F127.0.0.1%3A9000%2Fwebhook"
            "&enabled_events[0]=%2A&description=example-store");
}

TEST(psp_wire, decode_form_handles_plus_and_bad_escapes) {
  auto f = decode_form("product=mug&quantity=2&note=a+b%21%zz&flag");
  EXPECT_EQ(form_value(f, "product"), "mug");
  EXPECT_EQ(form_value(f, "quantity"), "2");
  EXPECT_EQ(form_value(f, "note"), "a b!%zz");
  EXPECT_EQ(form_value(f, "flag"), "");
  EXPECT_EQ(form_value(f, "missing"), "");
  EXPECT_EQ(decode_form("a=1&b=2&c=3", 2).size(), 2u);
}

TEST(psp_wire, parses_a_checkout_session) {
  auto s = parse_checkout_session(R"({"id":"cs_test_1",
    "object":"checkout.session","url":"http://psp/pay/cs_test_1",
    "status":"open","payment_status":"unpaid","amount_total":2000,
    "currency":"usd","client_reference_id":"ord_1","payment_intent":"pi_1"})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->id, "cs_test_1");
  EXPECT_EQ(s->url, "http://psp/pay/cs_test_1");
  EXPECT_EQ(s->status, "open");
  EXPECT_EQ(s->payment_status, "unpaid");
  EXPECT_EQ(s->amount_total, 2000);
  EXPECT_EQ(s->client_reference_id, "ord_1");
  EXPECT_EQ(s->payment_intent, "pi_1");
  EXPECT_FALSE(parse_checkout_session(R"({"object":"checkout.session"})"));
  EXPECT_FALSE(parse_checkout_session("<html>"));
}

TEST(psp_wire, parses_a_webhook_endpoint) {
  auto ep = parse_webhook_endpoint(
      R"({"id":"we_1","object":"webhook_endpoint","secret":"whsec_abc"})");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->secret, "whsec_abc");
  EXPECT_FALSE(parse_webhook_endpoint(R"({"id":"we_1"})"));
}

TEST(psp_wire, parses_stripe_errors_and_falls_back) {
  auto e = parse_psp_error(402, R"({"error":{"type":"card_error",
    "code":"card_declined","message":"Your card was declined.",
    "param":null}})");
  EXPECT_EQ(e.status, 402);
  EXPECT_EQ(e.type, "card_error");
  EXPECT_EQ(e.code, "card_declined");
  EXPECT_EQ(e.message, "Your card was declined.");
  auto fallback = parse_psp_error(503, "Service Unavailable");
  EXPECT_EQ(fallback.message, "the PSP answered HTTP 503");
}
