// Checks that webhook verification accepts correctly signed requests (both
// schemes, known vector included) and refuses every kind of forgery.
#include "webhook_verify.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace store;

namespace {

constexpr int64_t now_s = 1'700'000'000;
const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const std::string body =
    R"({"id":"evt_1","type":"checkout.session.completed"})";

std::string stripe_sig(const std::string& key, int64_t t,
                       const std::string& payload) {
  return to_hex(hmac_sha256(key, std::to_string(t) + "." + payload));
}

std::string standard_sig(const std::string& whsec, const std::string& id,
                         int64_t t, const std::string& payload) {
  auto key = base64_decode(whsec.substr(6));
  EXPECT_TRUE(key.has_value());
  return base64_encode(
      hmac_sha256(*key, id + "." + std::to_string(t) + "." + payload));
}

// Signs `payload` the way the PSP does, with both schemes.
webhook_headers signed_headers(const std::string& whsec, int64_t t,
                               const std::string& payload) {
  webhook_headers h;
  h.stripe_signature =
      "t=" + std::to_string(t) + ",v1=" + stripe_sig(whsec, t, payload);
  h.webhook_id = "evt_1";
  h.webhook_timestamp = std::to_string(t);
  h.webhook_signature = "v1," + standard_sig(whsec, "evt_1", t, payload);
  return h;
}

} // namespace

TEST(webhook_verify, hmac_matches_rfc4231_case_2) {
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(webhook_verify, base64_round_trips_and_refuses_junk) {
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_decode("Zm9vYg==").value_or("?"), "foob");
  EXPECT_EQ(base64_decode("Zm9vYg").value_or("?"), "foob");
  EXPECT_FALSE(base64_decode("Zm9v!A==").has_value());
  EXPECT_FALSE(base64_decode("Z").has_value());
  EXPECT_FALSE(base64_decode("Zm9=v").has_value());
}

TEST(webhook_verify, standard_webhooks_known_vector) {
  const std::string id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  const std::string ts = "1614265330";
  const std::string payload = R"({"test": 2432232314})";
  const std::string sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
  EXPECT_EQ(verify_standard_signature(id, ts, sig, payload, secret, 1614265330),
            verify_error::none);
  EXPECT_EQ("v1," + standard_sig(secret, id, 1614265330, payload), sig);
  EXPECT_EQ(
      verify_standard_signature(id, ts, sig, payload + " ", secret, 1614265330),
      verify_error::bad_signature);
  EXPECT_EQ(
      verify_standard_signature(id, ts, sig, payload, secret, 1614265330 + 301),
      verify_error::stale_timestamp);
}

TEST(webhook_verify, accepts_a_correctly_signed_request) {
  auto h = signed_headers(secret, now_s, body);
  EXPECT_EQ(verify_webhook(h, body, secret, now_s), verify_error::none);
  // Within the tolerance either way.
  auto early = signed_headers(secret, now_s - 299, body);
  EXPECT_EQ(verify_webhook(early, body, secret, now_s), verify_error::none);
  auto late = signed_headers(secret, now_s + 299, body);
  EXPECT_EQ(verify_webhook(late, body, secret, now_s), verify_error::none);
}

TEST(webhook_verify, rejects_wrong_secret) {
  const std::string other = "whsec_" + base64_encode("another secret 123");
  auto h = signed_headers(other, now_s, body);
  EXPECT_EQ(verify_webhook(h, body, secret, now_s),
            verify_error::bad_signature);
  EXPECT_EQ(verify_standard_signature(h.webhook_id, h.webhook_timestamp,
                                      h.webhook_signature, body, secret, now_s),
            verify_error::bad_signature);
}

TEST(webhook_verify, rejects_tampered_body) {
  auto h = signed_headers(secret, now_s, body);
  std::string tampered = body;
  tampered[tampered.size() - 3] = 'X';
  EXPECT_EQ(verify_webhook(h, tampered, secret, now_s),
            verify_error::bad_signature);
  EXPECT_EQ(verify_standard_signature(h.webhook_id, h.webhook_timestamp,
                                      h.webhook_signature, tampered, secret,
                                      now_s),
            verify_error::bad_signature);
}

TEST(webhook_verify, rejects_stale_and_future_timestamps) {
  auto old = signed_headers(secret, now_s - 301, body);
  EXPECT_EQ(verify_webhook(old, body, secret, now_s),
            verify_error::stale_timestamp);
  auto future = signed_headers(secret, now_s + 301, body);
  EXPECT_EQ(verify_webhook(future, body, secret, now_s),
            verify_error::stale_timestamp);
}

TEST(webhook_verify, rejects_a_signed_id_or_timestamp_that_was_changed) {
  auto h = signed_headers(secret, now_s, body);
  h.webhook_id = "evt_2";
  EXPECT_EQ(verify_webhook(h, body, secret, now_s),
            verify_error::bad_signature);
  h = signed_headers(secret, now_s, body);
  h.stripe_signature = "t=" + std::to_string(now_s + 1) +
                       ",v1=" + stripe_sig(secret, now_s, body);
  EXPECT_EQ(verify_webhook(h, body, secret, now_s),
            verify_error::bad_signature);
}

TEST(webhook_verify, rejects_malformed_stripe_headers) {
  auto good = stripe_sig(secret, now_s, body);
  auto t = std::to_string(now_s);
  for (const std::string& header :
       {std::string("garbage"), "t=" + t, "v1=" + good, "t=abc,v1=" + good,
        "t=" + t + ",t=" + t + ",v1=" + good, "t=-5,v1=" + good,
        "t=" + t + ",v0=" + good}) {
    EXPECT_EQ(verify_stripe_signature(header, body, secret, now_s),
              verify_error::malformed_header)
        << header;
  }
  EXPECT_EQ(verify_stripe_signature("", body, secret, now_s),
            verify_error::missing_header);
  EXPECT_EQ(verify_stripe_signature("t=" + t + ",v1=zz", body, secret, now_s),
            verify_error::bad_signature);
}

TEST(webhook_verify, rejects_malformed_standard_headers) {
  auto sig = standard_sig(secret, "evt_1", now_s, body);
  auto t = std::to_string(now_s);
  EXPECT_EQ(
      verify_standard_signature("evt_1", t, "v1" + sig, body, secret, now_s),
      verify_error::malformed_header);
  EXPECT_EQ(verify_standard_signature("evt_1", "soon", "v1," + sig, body,
                                      secret, now_s),
            verify_error::malformed_header);
  EXPECT_EQ(
      verify_standard_signature("evt_1", t, "v2," + sig, body, secret, now_s),
      verify_error::malformed_header);
  EXPECT_EQ(verify_standard_signature("", t, "v1," + sig, body, secret, now_s),
            verify_error::missing_header);
  EXPECT_EQ(verify_standard_signature("evt_1", t, "v1,not*base64", body, secret,
                                      now_s),
            verify_error::bad_signature);
  EXPECT_EQ(verify_standard_signature("evt_1", t, "v1," + sig, body,
                                      "whsec_***", now_s),
            verify_error::bad_secret);
}

TEST(webhook_verify, missing_headers_are_rejected) {
  auto h = signed_headers(secret, now_s, body);
  auto no_stripe = h;
  no_stripe.stripe_signature.clear();
  EXPECT_EQ(verify_webhook(no_stripe, body, secret, now_s),
            verify_error::missing_header);
  auto no_standard = h;
  no_standard.webhook_signature.clear();
  EXPECT_EQ(verify_webhook(no_standard, body, secret, now_s),
            verify_error::missing_header);
}

TEST(webhook_verify, both_signatures_are_required) {
  auto h = signed_headers(secret, now_s, body);
  auto bad_standard = h;
  bad_standard.webhook_signature =
      "v1," + standard_sig(secret, "evt_1", now_s, "other");
  EXPECT_EQ(verify_webhook(bad_standard, body, secret, now_s),
            verify_error::bad_signature);
  auto bad_stripe = h;
  bad_stripe.stripe_signature = "t=" + std::to_string(now_s) +
                                ",v1=" + stripe_sig(secret, now_s, "other");
  EXPECT_EQ(verify_webhook(bad_stripe, body, secret, now_s),
            verify_error::bad_signature);
}

TEST(webhook_verify, any_of_several_v1_entries_may_match) {
  auto t = std::to_string(now_s);
  auto good_hex = stripe_sig(secret, now_s, body);
  auto bad_hex = stripe_sig("whsec_old", now_s, body);
  EXPECT_EQ(
      verify_stripe_signature("t=" + t + ",v1=" + bad_hex + ",v1=" + good_hex,
                              body, secret, now_s),
      verify_error::none);
  EXPECT_EQ(verify_stripe_signature("t=" + t + ", v0=abc, v1=" + good_hex +
                                        ", v1=" + bad_hex,
                                    body, secret, now_s),
            verify_error::none);
  EXPECT_EQ(
      verify_stripe_signature("t=" + t + ",v1=" + bad_hex + ",v1=" + bad_hex,
                              body, secret, now_s),
      verify_error::bad_signature);

  auto good_b64 = standard_sig(secret, "evt_1", now_s, body);
  auto bad_b64 = base64_encode(std::string(32, 'x'));
  EXPECT_EQ(verify_standard_signature(
                "evt_1", t, "v1," + bad_b64 + " v1a,xyz v1," + good_b64, body,
                secret, now_s),
            verify_error::none);
  EXPECT_EQ(verify_standard_signature("evt_1", t,
                                      "v1," + bad_b64 + " v1," + bad_b64, body,
                                      secret, now_s),
            verify_error::bad_signature);
}
