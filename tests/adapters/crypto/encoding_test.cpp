// Checks hex and base64 against RFC 4648 vectors and that decoders reject
// every malformed input instead of guessing.

#include "adapters/crypto/encoding.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace psp::crypto;

namespace {

std::string all_byte_values() {
  std::string out;
  for (int i = 0; i < 256; ++i) {
    out.push_back(static_cast<char>(i));
  }
  return out;
}

} // namespace

TEST(encoding, to_hex_is_lowercase_two_chars_per_byte) {
  EXPECT_EQ(to_hex(""), "");
  EXPECT_EQ(to_hex(std::string("\x00\x01\x7f\x80\xff", 5)), "00017f80ff");
  EXPECT_EQ(to_hex("\xde\xad\xbe\xef"), "deadbeef");
}

TEST(encoding, from_hex_accepts_both_cases) {
  EXPECT_EQ(from_hex("deadbeef"), std::string("\xde\xad\xbe\xef"));
  EXPECT_EQ(from_hex("DEADBEEF"), std::string("\xde\xad\xbe\xef"));
  EXPECT_EQ(from_hex("00ff"), std::string("\x00\xff", 2));
  EXPECT_EQ(from_hex(""), std::string());
}

TEST(encoding, from_hex_rejects_malformed_input) {
  EXPECT_FALSE(from_hex("0"));
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("zz"));
  EXPECT_FALSE(from_hex("0g"));
  EXPECT_FALSE(from_hex(" 00"));
  EXPECT_FALSE(from_hex("00 "));
  EXPECT_FALSE(from_hex("0x00"));
  EXPECT_FALSE(from_hex(std::string("0\0", 2)));
}

TEST(encoding, hex_round_trips_every_byte_value) {
  auto bytes = all_byte_values();
  EXPECT_EQ(to_hex(bytes).size(), 512u);
  EXPECT_EQ(from_hex(to_hex(bytes)), bytes);
}

TEST(encoding, base64_matches_rfc4648_vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode(""), std::string());
  EXPECT_EQ(base64_decode("Zg=="), std::string("f"));
  EXPECT_EQ(base64_decode("Zm8="), std::string("fo"));
  EXPECT_EQ(base64_decode("Zm9v"), std::string("foo"));
  EXPECT_EQ(base64_decode("Zm9vYg=="), std::string("foob"));
  EXPECT_EQ(base64_decode("Zm9vYmE="), std::string("fooba"));
  EXPECT_EQ(base64_decode("Zm9vYmFy"), std::string("foobar"));
}

TEST(encoding, base64_uses_the_standard_alphabet) {
  EXPECT_EQ(base64_encode("\xfb\xff\xbf"), "+/+/");
  EXPECT_EQ(base64_decode("+/+/"), std::string("\xfb\xff\xbf"));
}

TEST(encoding, base64_round_trips_every_length_and_byte_value) {
  auto bytes = all_byte_values();
  for (size_t n = 0; n <= bytes.size(); ++n) {
    auto part = bytes.substr(bytes.size() - n);
    auto text = base64_encode(part);
    EXPECT_EQ(text.size() % 4, 0u);
    ASSERT_EQ(base64_decode(text), part) << "length " << n;
  }
}

TEST(encoding, base64_decode_rejects_wrong_lengths) {
  EXPECT_FALSE(base64_decode("Z"));
  EXPECT_FALSE(base64_decode("Zg"));
  EXPECT_FALSE(base64_decode("Zg="));
  EXPECT_FALSE(base64_decode("Zm9vY"));
}

TEST(encoding, base64_decode_rejects_characters_outside_the_alphabet) {
  EXPECT_FALSE(base64_decode("Zm9-")); // URL-safe alphabet
  EXPECT_FALSE(base64_decode("Zm9_"));
  EXPECT_FALSE(base64_decode("Zm9 "));
  EXPECT_FALSE(base64_decode("Zm\n9v"));
  EXPECT_FALSE(base64_decode("Zm9v\r\n"));
  EXPECT_FALSE(base64_decode("Zm9*"));
  EXPECT_FALSE(base64_decode(std::string("Zm9\0", 4)));
  EXPECT_FALSE(base64_decode("Zm9\xc3"));
}

TEST(encoding, base64_decode_rejects_misplaced_padding) {
  EXPECT_FALSE(base64_decode("===="));
  EXPECT_FALSE(base64_decode("Z==="));
  EXPECT_FALSE(base64_decode("Z=g="));
  EXPECT_FALSE(base64_decode("Zg==Zm9v"));
  EXPECT_FALSE(base64_decode("=Zm9"));
  EXPECT_FALSE(base64_decode("Zm=v"));
}

TEST(encoding, base64_decode_rejects_non_canonical_trailing_bits) {
  // "Zg==" is "f"; "Zh==" would decode to the same byte with stray bits.
  EXPECT_FALSE(base64_decode("Zh=="));
  EXPECT_FALSE(base64_decode("Zm9="));
  EXPECT_EQ(base64_decode("Zm8="), std::string("fo"));
}
