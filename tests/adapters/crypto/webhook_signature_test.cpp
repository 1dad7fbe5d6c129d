// Checks both webhook signature schemes against known vectors and that
// malformed secrets are refused rather than signed with garbage.

#include "adapters/crypto/webhook_signature.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "adapters/crypto/digest.hpp"
#include "adapters/crypto/encoding.hpp"

using namespace psp::crypto;

TEST(webhook_signature, standard_webhooks_known_vector) {
  auto sig = standard_webhook_signature(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1614265330, R"({"test": 2432232314})");
  ASSERT_TRUE(sig);
  EXPECT_EQ(*sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(webhook_signature, standard_webhooks_signature_covers_every_input) {
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  auto base = standard_webhook_signature(secret, "msg_1", 1614265330, "{}");
  ASSERT_TRUE(base);
  EXPECT_NE(base,
            standard_webhook_signature(secret, "msg_2", 1614265330, "{}"));
  EXPECT_NE(base,
            standard_webhook_signature(secret, "msg_1", 1614265331, "{}"));
  EXPECT_NE(base,
            standard_webhook_signature(secret, "msg_1", 1614265330, "{ }"));
  EXPECT_NE(base,
            standard_webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx",
                                       "msg_1", 1614265330, "{}"));
}

TEST(webhook_signature, standard_webhooks_rejects_malformed_secrets) {
  auto sign = [](std::string_view secret) {
    return standard_webhook_signature(secret, "msg_1", 1, "{}");
  };
  EXPECT_FALSE(sign(""));
  EXPECT_FALSE(sign("whsec_"));                           // no key bytes
  EXPECT_FALSE(sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")); // no prefix
  EXPECT_FALSE(sign("whsec"));
  EXPECT_FALSE(sign("WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
  EXPECT_FALSE(sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"));  // length
  EXPECT_FALSE(sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-w")); // alphabet
  EXPECT_FALSE(sign("whsec_ MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
  EXPECT_FALSE(sign("sk_test_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
}

TEST(webhook_signature, stripe_header_known_vector) {
  // Expected value computed independently with Python's hmac module.
  EXPECT_EQ(stripe_signature_header("whsec_test_secret", 1700000000,
                                    R"({"id":"evt_1"})"),
            "t=1700000000,v1=248a374f50f943a28b0f6ab50faf9a7e7e29b710fa26df9f"
            "b1618b9bf8ea9c9a");
}

TEST(webhook_signature, stripe_header_keys_hmac_with_the_whole_secret) {
  const std::string secret = "whsec_abc";
  auto header = stripe_signature_header(secret, 42, "payload");
  EXPECT_EQ(header, "t=42,v1=" + to_hex(hmac_sha256(secret, "42.payload")));
  EXPECT_NE(header, stripe_signature_header("abc", 42, "payload"));
  EXPECT_NE(header, stripe_signature_header(secret, 43, "payload"));
  EXPECT_NE(header, stripe_signature_header(secret, 42, "payload!"));
}

TEST(webhook_signature, stripe_header_accepts_any_secret_and_empty_body) {
  auto header = stripe_signature_header("", 0, "");
  EXPECT_EQ(header, "t=0,v1=" + to_hex(hmac_sha256("", "0.")));
}

TEST(webhook_signature, new_secret_has_prefix_and_32_key_bytes) {
  auto secret = new_webhook_secret();
  ASSERT_EQ(secret.substr(0, 6), "whsec_");
  EXPECT_EQ(secret.size(), 6u + 44u);
  auto key = base64_decode(secret.substr(6));
  ASSERT_TRUE(key);
  EXPECT_EQ(key->size(), 32u);
  EXPECT_TRUE(standard_webhook_signature(secret, "msg_1", 1, "{}"));
}

TEST(webhook_signature, new_secrets_are_unique) {
  std::set<std::string> secrets;
  for (int i = 0; i < 1000; ++i) {
    secrets.insert(new_webhook_secret());
  }
  EXPECT_EQ(secrets.size(), 1000u);
}
