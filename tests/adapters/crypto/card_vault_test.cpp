// Checks that the card vault round-trips PANs and refuses every altered,
// truncated, misbound or foreign sealed value.

#include "adapters/crypto/card_vault.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <set>
#include <string>

#include "adapters/crypto/encoding.hpp"

using namespace psp::crypto;

namespace {

constexpr const char* key_hex =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr const char* other_key_hex =
    "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";
constexpr const char* pan = "4242424242424242";
constexpr const char* ad = "pm_1234";

card_vault make_vault(const char* hex = key_hex) {
  auto vault = card_vault::from_hex_key(hex);
  if (!vault) {
    ADD_FAILURE() << "test key rejected";
    std::abort();
  }
  return *vault;
}

} // namespace

TEST(card_vault, from_hex_key_accepts_exactly_32_bytes) {
  EXPECT_TRUE(card_vault::from_hex_key(key_hex));
  std::string upper(key_hex);
  for (auto& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  EXPECT_TRUE(card_vault::from_hex_key(upper));
}

TEST(card_vault, from_hex_key_rejects_other_keys) {
  std::string hex(key_hex);
  EXPECT_FALSE(card_vault::from_hex_key(""));
  EXPECT_FALSE(card_vault::from_hex_key(hex.substr(0, 62))); // 31 bytes
  EXPECT_FALSE(card_vault::from_hex_key(hex.substr(0, 63))); // odd
  EXPECT_FALSE(card_vault::from_hex_key(hex + "0"));
  EXPECT_FALSE(card_vault::from_hex_key(hex + "00"));        // 33 bytes
  EXPECT_FALSE(card_vault::from_hex_key(hex.substr(0, 32))); // AES-128 size
  std::string bad = hex;
  bad[10] = 'g';
  EXPECT_FALSE(card_vault::from_hex_key(bad));
  EXPECT_FALSE(card_vault::from_hex_key(" " + hex.substr(1)));
}

TEST(card_vault, seal_then_open_round_trips) {
  auto vault = make_vault();
  auto sealed = vault.seal(pan, ad);
  EXPECT_EQ(vault.open(sealed, ad), std::string(pan));
  EXPECT_EQ(sealed.find(pan), std::string::npos);
}

TEST(card_vault, sealed_layout_is_nonce_ciphertext_tag) {
  auto vault = make_vault();
  auto raw = base64_decode(vault.seal(pan, ad));
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->size(), card_vault::nonce_size + std::string(pan).size() +
                             card_vault::tag_size);
}

TEST(card_vault, round_trips_empty_and_binary_values) {
  auto vault = make_vault();
  EXPECT_EQ(vault.open(vault.seal("", ad), ad), std::string());
  EXPECT_EQ(vault.open(vault.seal(pan, ""), ""), std::string(pan));
  std::string binary("\x00\xff\x10\x00", 4);
  EXPECT_EQ(vault.open(vault.seal(binary, binary), binary), binary);
  std::string big(card_vault::plaintext_size_max, 'x');
  EXPECT_EQ(vault.open(vault.seal(big, ad), ad), big);
}

TEST(card_vault, each_seal_uses_a_fresh_nonce) {
  auto vault = make_vault();
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    seen.insert(vault.seal(pan, ad));
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(card_vault, opens_a_known_aes_256_gcm_vector) {
  // GCM spec test case 14: zero key, zero nonce, 16 zero bytes, no AD.
  auto vault = make_vault(
      "0000000000000000000000000000000000000000000000000000000000000000");
  auto raw = from_hex("000000000000000000000000"
                      "cea7403d4d606b6e074ec5d3baf39d18"
                      "d0d1c8a799996bf0265b98b5d48ab919");
  ASSERT_TRUE(raw);
  EXPECT_EQ(vault.open(base64_encode(*raw), ""), std::string(16, '\0'));
  // Test case 13: empty plaintext, tag only.
  auto tag_only = from_hex("000000000000000000000000"
                           "530f8afbc74536b9a963b4f1c4cb738b");
  ASSERT_TRUE(tag_only);
  EXPECT_EQ(vault.open(base64_encode(*tag_only), ""), std::string());
}

TEST(card_vault, flipping_any_bit_of_any_byte_is_detected) {
  auto vault = make_vault();
  auto raw = base64_decode(vault.seal(pan, ad));
  ASSERT_TRUE(raw);
  for (size_t i = 0; i < raw->size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto tampered = *raw;
      tampered[i] = static_cast<char>(tampered[i] ^ (1 << bit));
      EXPECT_FALSE(vault.open(base64_encode(tampered), ad))
          << "byte " << i << " bit " << bit;
    }
  }
}

TEST(card_vault, changing_any_base64_character_is_detected) {
  auto vault = make_vault();
  auto sealed = vault.seal(pan, ad);
  for (size_t i = 0; i < sealed.size(); ++i) {
    if (sealed[i] == '=') {
      continue;
    }
    auto tampered = sealed;
    tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(vault.open(tampered, ad)) << "position " << i;
  }
}

TEST(card_vault, wrong_associated_data_is_rejected) {
  auto vault = make_vault();
  auto sealed = vault.seal(pan, ad);
  EXPECT_FALSE(vault.open(sealed, "pm_1235"));
  EXPECT_FALSE(vault.open(sealed, ""));
  EXPECT_FALSE(vault.open(sealed, std::string(ad) + std::string(1, '\0')));
  auto no_ad = vault.seal(pan, "");
  EXPECT_FALSE(vault.open(no_ad, ad));
}

TEST(card_vault, wrong_key_is_rejected) {
  auto vault = make_vault();
  auto other = make_vault(other_key_hex);
  EXPECT_FALSE(other.open(vault.seal(pan, ad), ad));
  EXPECT_FALSE(vault.open(other.seal(pan, ad), ad));
}

TEST(card_vault, truncated_or_extended_values_are_rejected) {
  auto vault = make_vault();
  auto raw = base64_decode(vault.seal(pan, ad));
  ASSERT_TRUE(raw);
  for (size_t n = 0; n < raw->size(); ++n) {
    EXPECT_FALSE(vault.open(base64_encode(raw->substr(0, n)), ad))
        << "kept " << n << " bytes";
  }
  EXPECT_FALSE(vault.open(base64_encode(raw->substr(1)), ad));
  EXPECT_FALSE(vault.open(base64_encode(*raw + "x"), ad));
}

TEST(card_vault, malformed_text_is_rejected) {
  auto vault = make_vault();
  auto sealed = vault.seal(pan, ad);
  EXPECT_FALSE(vault.open("", ad));
  EXPECT_FALSE(vault.open("not base64!", ad));
  EXPECT_FALSE(vault.open(sealed.substr(0, sealed.size() - 1), ad));
  EXPECT_FALSE(vault.open(sealed + "\n", ad));
  EXPECT_FALSE(vault.open(" " + sealed, ad));
  EXPECT_FALSE(vault.open(std::string(1'000'000, 'A'), ad));
}

TEST(card_vault, copies_share_the_key) {
  auto vault = make_vault();
  card_vault copy = vault;
  EXPECT_EQ(copy.open(vault.seal(pan, ad), ad), std::string(pan));
}
