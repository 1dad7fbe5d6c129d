// Goal: the hosted page's card form is taken from our own page only, as
// the browser tells it (decision 64), and from clients that are no browser.

#include "adapters/http/form_origin.hpp"

#include <gtest/gtest.h>

namespace psp::http {
namespace {

constexpr const char* public_url = "https://pay.example.com";

TEST(form_origin, the_fetch_metadata_decides_when_sent) {
  EXPECT_TRUE(form_from_own_page("", "same-origin", "", public_url));
  EXPECT_TRUE(form_from_own_page("", "Same-Origin", "", public_url));
  EXPECT_FALSE(form_from_own_page("", "cross-site", "", public_url));
  // Another subdomain of the same site is not our page either.
  EXPECT_FALSE(form_from_own_page("", "same-site", "", public_url));
  // Whatever the Origin claims.
  EXPECT_FALSE(form_from_own_page(public_url, "cross-site", "pay.example.com",
                                  public_url));
}

TEST(form_origin, an_origin_is_the_public_url_or_the_host_reached) {
  EXPECT_TRUE(form_from_own_page("https://pay.example.com", "", "", public_url));
  EXPECT_TRUE(form_from_own_page("HTTPS://Pay.Example.com", "", "",
                                 public_url));
  EXPECT_TRUE(form_from_own_page("http://127.0.0.1:17001", "",
                                 "127.0.0.1:17001", public_url));
  EXPECT_TRUE(form_from_own_page("https://pay.example.com", "",
                                 "127.0.0.1:17001",
                                 "https://pay.example.com/checkout/"));
  EXPECT_FALSE(form_from_own_page("https://evil.example", "",
                                  "127.0.0.1:17001", public_url));
  EXPECT_FALSE(form_from_own_page("http://127.0.0.1:18290", "",
                                  "127.0.0.1:17001", public_url));
  // A sandboxed frame or a page of a data: URL.
  EXPECT_FALSE(form_from_own_page("null", "", "127.0.0.1:17001", public_url));
  // A look-alike that only starts with our origin.
  EXPECT_FALSE(form_from_own_page("https://pay.example.com.evil.example", "",
                                  "", public_url));
}

TEST(form_origin, a_client_that_is_no_browser_passes) {
  EXPECT_TRUE(form_from_own_page("", "", "127.0.0.1:17001", public_url));
  EXPECT_TRUE(form_from_own_page("", "", "", ""));
}

} // namespace
} // namespace psp::http
