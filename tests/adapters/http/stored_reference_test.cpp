// Checks an Idempotency-Key answer stored by reference: the mutable fields
// of a session as created are written compactly and read back, keys stored
// before in the JSON form still replay, and what the compact form cannot
// hold falls back to JSON.
#include "adapters/http/stored_reference.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace psp::http {
namespace {

using json = nlohmann::json;

render::fields session_now() {
  // As the session is at replay time: paid, completed.
  return {{"id", "cs_test_1"},         {"status", "complete"},
          {"payment_status", "paid"},  {"expires_at", "1796164345"},
          {"amount_total", "2000"},    {"currency", "usd"},
          {"payment_intent", "pi_1"},  {"created", "1796077945"}};
}

json replayed(const std::string& as_created) {
  auto body = render_stored_reference("cs:cs_test_1", session_now(), as_created);
  EXPECT_TRUE(body.has_value()) << as_created;
  return body ? json::parse(*body) : json{};
}

TEST(stored_reference, the_compact_form_replays_the_session_as_created) {
  render::fields created{{"status", "open"},
                         {"payment_status", "unpaid"},
                         {"expires_at", "1796164345"}};
  auto stored = session_as_created(created);
  EXPECT_EQ(stored, "open|unpaid|1796164345");
  auto then = replayed(stored);
  EXPECT_EQ(then["status"], "open");
  EXPECT_EQ(then["payment_status"], "unpaid");
  EXPECT_EQ(then["expires_at"], 1796164345);
  EXPECT_EQ(then["id"], "cs_test_1");
}

TEST(stored_reference, an_absent_field_stays_absent) {
  auto stored = session_as_created({{"status", "open"}, {"expires_at", "5"}});
  EXPECT_EQ(stored, "open||5");
  auto now = session_now();
  auto body = render_stored_reference("cs:cs_test_1", now, stored);
  ASSERT_TRUE(body);
  auto without = now;
  without.erase("payment_status");
  without["status"] = "open";
  without["expires_at"] = "5";
  EXPECT_EQ(json::parse(*body), render::checkout_session(without));
}

TEST(stored_reference, keys_stored_as_json_before_still_replay) {
  auto then = replayed(
    R"({"expires_at":"1796164345","payment_status":"unpaid","status":"open"})");
  EXPECT_EQ(then["status"], "open");
  EXPECT_EQ(then["payment_status"], "unpaid");
}

TEST(stored_reference, values_the_compact_form_cannot_hold_are_kept_as_json) {
  for (auto odd : {"op|en", "{open", ""}) {
    SCOPED_TRACE(odd);
    auto stored = session_as_created({{"status", odd},
                                      {"payment_status", "unpaid"},
                                      {"expires_at", "1"}});
    ASSERT_FALSE(stored.empty());
    EXPECT_EQ(stored.front(), '{');
    auto body = render_stored_reference("cs:cs_test_1", session_now(), stored);
    ASSERT_TRUE(body);
    EXPECT_EQ(json::parse(*body)["payment_status"], "unpaid");
  }
}

TEST(stored_reference, malformed_or_foreign_references_do_not_render) {
  for (auto bad : {"open|unpaid", "open|unpaid|1|x", "{not json"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(render_stored_reference("cs:cs_test_1", session_now(), bad));
  }
  EXPECT_FALSE(render_stored_reference("pi:pi_1", session_now(),
                                       "open|unpaid|1"));
  EXPECT_FALSE(render_stored_reference("cs:cs_test_1", {}, "open|unpaid|1"));
}

} // namespace
} // namespace psp::http
