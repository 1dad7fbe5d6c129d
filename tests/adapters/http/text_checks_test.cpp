// Goal: the shape checks the routes share count characters, not bytes, and
// take only URLs a browser can be sent to and libcurl can post to.

#include "adapters/http/text_checks.hpp"

#include <gtest/gtest.h>

#include <string>

namespace psp::http {
namespace {

std::string repeat(const std::string& unit, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += unit;
  }
  return out;
}

TEST(text_checks, utf8_length_counts_characters) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("order"), 5u);
  EXPECT_EQ(utf8_length(repeat("é", 20)), 20u);  // 40 bytes
  EXPECT_EQ(utf8_length(repeat("€", 166)), 166u); // 498 bytes
  EXPECT_EQ(utf8_length("日本の茶碗"), 5u);
  EXPECT_EQ(utf8_length("🍵"), 1u);
}

TEST(text_checks, controls_and_direction_overrides_are_found) {
  for (const char* text :
       {"Tea\x01", "Tea\x1b[31m", "Tea\x7f", "Tea\nCup",
        "\xC2\x85" "Tea",                   // NEL (C1)
        "Gift card \xE2\x80\xAE" "DSU 00.1", // RLO
        "\xE2\x80\xAA" "x",                  // LRE
        "a\xE2\x81\xA6" "b\xE2\x81\xA9"}) {   // LRI ... PDI
    EXPECT_TRUE(has_control_or_direction_override(text)) << text;
  }
  for (const char* text :
       {"", "Tea", "Th\xC3\xA9 vert", "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D",
        "\xE2\x80\x94 em dash", "\xE2\x80\xAF" "narrow nbsp",
        "\xE2\x81\xA5" "invisible separator"}) {
    EXPECT_FALSE(has_control_or_direction_override(text)) << text;
  }
}

TEST(text_checks, http_urls_with_a_host_are_taken) {
  for (auto good :
       {"https://shop.example/ok", "http://localhost:8080/hook",
        "HTTPS://Shop.Example/ok?cs={CHECKOUT_SESSION_ID}",
        "http://127.0.0.1:65535", "http://[::1]:9000/x", "https://a-b.c#top",
        "https://user:secret@hooks.example/psp", "https://bücher.example/"}) {
    EXPECT_TRUE(is_http_url(good)) << good;
  }
}

TEST(text_checks, anything_else_is_refused) {
  for (auto bad :
       {"", "http://", "https://", "http:///path", "http://x y",
        "http://x/a b", "http://x/\t", "ftp://x/y", "shop.example",
        "javascript:alert(1)", "mailto:a@b", "http://:80", "http://x:0",
        "http://x:65536", "http://x:8o", "http://.x", "http://a..b",
        "http://[::1", "http://[]/", "http://x_y/", "http//x"}) {
    EXPECT_FALSE(is_http_url(bad)) << bad;
  }
  EXPECT_TRUE(is_http_url("https://x/" + std::string(2038, 'a')));
  EXPECT_FALSE(is_http_url("https://x/" + std::string(2039, 'a')));
}

TEST(text_checks, a_urls_host_is_without_user_port_and_brackets) {
  EXPECT_EQ(url_host("https://shop.example/ok"), "shop.example");
  EXPECT_EQ(url_host("http://127.0.0.1:65535"), "127.0.0.1");
  EXPECT_EQ(url_host("http://[::1]:9000/x"), "::1");
  EXPECT_EQ(url_host("http://[::ffff:127.0.0.1]"), "::ffff:127.0.0.1");
  EXPECT_EQ(url_host("https://user:secret@hooks.example/psp"),
            "hooks.example");
  // The host curl connects to, not the one a reader sees first.
  EXPECT_EQ(url_host("http://hooks.example@127.0.0.1/x"), "127.0.0.1");
  EXPECT_EQ(url_host("http://10.0.0.1#@hooks.example/"), "10.0.0.1");
  EXPECT_EQ(url_host("http://10.0.0.1?@hooks.example/"), "10.0.0.1");
  EXPECT_EQ(url_host("HTTP://LOCALHOST./x"), "LOCALHOST.");
}

TEST(text_checks, an_auth_schemes_name_in_any_case) {
  EXPECT_TRUE(starts_with_ignoring_case("Bearer sk_x", "bearer "));
  EXPECT_TRUE(starts_with_ignoring_case("BEARER sk_x", "bearer "));
  EXPECT_TRUE(starts_with_ignoring_case("basic abc", "basic "));
  EXPECT_FALSE(starts_with_ignoring_case("Bearer", "bearer "));
  EXPECT_FALSE(starts_with_ignoring_case("Bearerx sk", "bearer "));
  EXPECT_FALSE(starts_with_ignoring_case("", "bearer "));
}

TEST(text_checks, email_shapes) {
  for (auto good : {"ada@example.com", "a.b+c@mail.shop.example"}) {
    EXPECT_TRUE(looks_like_email(good)) << good;
  }
  for (auto bad : {"@", "a@b@c.d", "@example.com", "ada@", "ada@example",
                   "ada@.com", "ada@example.", "ada@exa..mple.com",
                   "a da@example.com", "<ada@example.com>", "ada.example.com"}) {
    EXPECT_FALSE(looks_like_email(bad)) << bad;
  }
  EXPECT_FALSE(looks_like_email(std::string(250, 'a') + "@b.cd"));
}

} // namespace
} // namespace psp::http
