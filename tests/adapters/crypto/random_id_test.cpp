// Checks that random bytes and ids have the promised sizes, alphabet,
// uniqueness and an even spread of characters.

#include "adapters/crypto/random_id.hpp"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>

using namespace psp::crypto;

namespace {

bool is_base62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
         (c >= 'a' && c <= 'z');
}

} // namespace

TEST(random_id, random_bytes_has_the_requested_size) {
  EXPECT_EQ(random_bytes(0), "");
  EXPECT_EQ(random_bytes(1).size(), 1u);
  EXPECT_EQ(random_bytes(32).size(), 32u);
  EXPECT_EQ(random_bytes(100'000).size(), 100'000u);
}

TEST(random_id, random_bytes_differ_between_calls) {
  EXPECT_NE(random_bytes(32), random_bytes(32));
}

TEST(random_id, random_bytes_cover_all_byte_values) {
  // 64 KiB: the chance that some byte value is missing is about 256*e^-256.
  auto bytes = random_bytes(64 * 1024);
  std::array<bool, 256> seen{};
  for (char c : bytes) {
    seen[static_cast<unsigned char>(c)] = true;
  }
  for (int i = 0; i < 256; ++i) {
    EXPECT_TRUE(seen[i]) << "byte " << i;
  }
}

TEST(random_id, random_base62_has_the_requested_length_and_alphabet) {
  EXPECT_EQ(random_base62(0), "");
  for (size_t n : {1u, 7u, 24u, 100u, 5000u}) {
    auto s = random_base62(n);
    ASSERT_EQ(s.size(), n);
    for (char c : s) {
      ASSERT_TRUE(is_base62(c)) << "unexpected character " << int(c);
    }
  }
}

TEST(random_id, random_base62_is_evenly_spread) {
  // 248,000 characters: each is expected 4,000 times with a standard
  // deviation of about 63. A 6-sigma window keeps this test from flaking,
  // while a biased `byte % 62` (4 characters at 5/4 the rate, ~4,840) fails.
  constexpr size_t per_char = 4000;
  auto s = random_base62(62 * per_char);
  std::array<size_t, 256> counts{};
  for (char c : s) {
    ++counts[static_cast<unsigned char>(c)];
  }
  size_t distinct = 0;
  for (int c = 0; c < 256; ++c) {
    if (counts[c] == 0) {
      continue;
    }
    ++distinct;
    EXPECT_GT(counts[c], 3620u) << "character " << char(c);
    EXPECT_LT(counts[c], 4380u) << "character " << char(c);
  }
  EXPECT_EQ(distinct, 62u);
}

TEST(random_id, new_id_is_prefix_plus_24_base62_characters) {
  auto id = new_id("cs_test_");
  ASSERT_EQ(id.size(), 8u + 24u);
  EXPECT_EQ(id.substr(0, 8), "cs_test_");
  for (char c : id.substr(8)) {
    EXPECT_TRUE(is_base62(c));
  }
  EXPECT_EQ(new_id("").size(), id_random_length);
}

TEST(random_id, ten_thousand_ids_are_unique) {
  std::set<std::string> ids;
  for (int i = 0; i < 10'000; ++i) {
    auto id = new_id("pi_");
    ASSERT_EQ(id.size(), 3u + id_random_length);
    ASSERT_EQ(id.substr(0, 3), "pi_");
    for (char c : id.substr(3)) {
      ASSERT_TRUE(is_base62(c));
    }
    ids.insert(std::move(id));
  }
  EXPECT_EQ(ids.size(), 10'000u);
}
