// Goal: a hosted page's policy admits exactly its own inline scripts and
// styles, by hash, and nothing when it has none.

#include "adapters/http/page_policy.hpp"

#include <gtest/gtest.h>

namespace psp::http {
namespace {

// base64(SHA-256) of "x()", "y()" and "a{}".
constexpr const char* x_hash = "'sha256-D6IGS8VMvCoyaR/l0h9tERrBTATY01CoPS7l6xDv0kI='";
constexpr const char* y_hash = "'sha256-nwG+cZ8J4yZ7RZ4RWxVDwCwkMn9GJelY2VgKXNi2Uvk='";
constexpr const char* a_hash = "'sha256-X1RutGBrXCt9KkSaXMK7tHftWiRscFHOhxsS8tv8hBk='";

TEST(page_policy, each_inline_script_and_style_is_admitted_by_its_hash) {
  auto policy = page_security_policy(
    "<html><head><style>a{}</style></head><body><p>x()</p>"
    "<script>x()</script><script>y()</script></body></html>");
  EXPECT_NE(policy.find(std::string{"script-src "} + x_hash + " " + y_hash
                        + ";"),
            std::string::npos)
    << policy;
  EXPECT_NE(policy.find(std::string{"style-src "} + a_hash + ";"),
            std::string::npos)
    << policy;
  EXPECT_EQ(policy.find("unsafe-inline"), std::string::npos);
  EXPECT_NE(policy.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos);
}

TEST(page_policy, a_page_without_scripts_runs_none) {
  auto policy = page_security_policy("<style>a{}</style><p>paid</p>");
  EXPECT_NE(policy.find("script-src 'none';"), std::string::npos) << policy;
  // An unclosed element admits nothing.
  EXPECT_NE(page_security_policy("<script>x()").find("script-src 'none';"),
            std::string::npos);
}

} // namespace
} // namespace psp::http
