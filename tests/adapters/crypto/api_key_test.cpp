// Checks that API keys are well formed and unique, and that only the hash
// is needed (and accepted) to recognise a key.

#include "adapters/crypto/api_key.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

using namespace psp::crypto;

TEST(api_key, new_secret_key_is_prefix_plus_32_base62_characters) {
  auto key = new_secret_key();
  ASSERT_EQ(key.size(), 8u + 32u);
  EXPECT_EQ(key.substr(0, 8), "sk_test_");
  for (char c : key.substr(8)) {
    EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                (c >= 'a' && c <= 'z'))
        << "unexpected character " << int(c);
  }
}

TEST(api_key, new_secret_keys_are_unique) {
  std::set<std::string> keys;
  for (int i = 0; i < 1000; ++i) {
    keys.insert(new_secret_key());
  }
  EXPECT_EQ(keys.size(), 1000u);
}

TEST(api_key, hash_is_lowercase_hex_sha256) {
  // Expected value computed independently with Python's hashlib.
  EXPECT_EQ(api_key_hash("sk_test_abc"),
            "4b4090ccee1e713c3d411b96a4226b90bd0f0deb34e02d19475a951316fd04ee");
  auto hash = api_key_hash(new_secret_key());
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_EQ(hash.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(api_key, matches_its_own_hash) {
  auto key = new_secret_key();
  EXPECT_TRUE(api_key_matches(key, api_key_hash(key)));
}

TEST(api_key, rejects_other_keys_and_bad_hashes) {
  auto key = new_secret_key();
  auto hash = api_key_hash(key);
  EXPECT_FALSE(api_key_matches(new_secret_key(), hash));
  EXPECT_FALSE(api_key_matches(key + "x", hash));
  EXPECT_FALSE(api_key_matches(key.substr(0, key.size() - 1), hash));
  EXPECT_FALSE(api_key_matches("", hash));
  EXPECT_FALSE(api_key_matches(key, ""));
  EXPECT_FALSE(api_key_matches(key, hash.substr(0, 63)));
  EXPECT_FALSE(api_key_matches(key, hash + "0"));
  // The stored form is the key's hash, never the key itself.
  EXPECT_FALSE(api_key_matches(key, key));
  auto flipped = hash;
  flipped[0] = flipped[0] == '0' ? '1' : '0';
  EXPECT_FALSE(api_key_matches(key, flipped));
}
