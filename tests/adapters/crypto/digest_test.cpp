// Checks SHA-256 and HMAC-SHA256 against published vectors and that the
// constant-time comparison gives the right answers.

#include "adapters/crypto/digest.hpp"

#include <gtest/gtest.h>

#include <string>

#include "adapters/crypto/encoding.hpp"

using namespace psp::crypto;

TEST(digest, sha256_matches_fips_180_vectors) {
  EXPECT_EQ(to_hex(sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256("abc").size(), sha256_size);
}

TEST(digest, hmac_sha256_matches_rfc4231_case_1) {
  std::string key(20, '\x0b');
  EXPECT_EQ(to_hex(hmac_sha256(key, "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(digest, hmac_sha256_matches_rfc4231_case_2) {
  auto tag = hmac_sha256("Jefe", "what do ya want for nothing?");
  EXPECT_EQ(tag.size(), sha256_size);
  EXPECT_EQ(to_hex(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(digest, hmac_sha256_matches_rfc4231_case_6_key_longer_than_block) {
  std::string key(131, '\xaa');
  EXPECT_EQ(to_hex(hmac_sha256(
                key, "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(digest, hmac_sha256_accepts_empty_key_and_message) {
  EXPECT_EQ(to_hex(hmac_sha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(digest, hmac_sha256_depends_on_key_and_message) {
  EXPECT_NE(hmac_sha256("key1", "msg"), hmac_sha256("key2", "msg"));
  EXPECT_NE(hmac_sha256("key", "msg1"), hmac_sha256("key", "msg2"));
  EXPECT_NE(hmac_sha256("k", std::string("m\0", 2)), hmac_sha256("k", "m"));
  // By HMAC's design a key is zero-padded to the block size, so trailing
  // zero bytes in a key do not change the tag; keys are random, not typed.
  EXPECT_EQ(hmac_sha256(std::string("k\0", 2), "m"), hmac_sha256("k", "m"));
}

TEST(digest, constant_time_equal_accepts_equal_strings) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_TRUE(
      constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
}

TEST(digest, constant_time_equal_rejects_any_difference) {
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "xbc"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal("ab", "abc"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_FALSE(
      constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
  // A prefix that matches must not be enough.
  EXPECT_FALSE(constant_time_equal(std::string("abc\0", 4), "abc"));
}
