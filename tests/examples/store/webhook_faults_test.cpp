// Checks the webhook fault knob: parsing its JSON requests, counting down
// fail_next, fail_all on and off, and refusing out-of-range values.
#include "webhook_faults.hpp"

#include <gtest/gtest.h>

using namespace store;

TEST(webhook_faults, fail_next_counts_down) {
  fault_settings s;
  ASSERT_FALSE(
      merge_fault_request(R"({"fail_next":2,"status":503,"delay_ms":10})", s));
  webhook_faults faults;
  faults.set(s);
  for (int i = 0; i < 2; ++i) {
    auto f = faults.take();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->status, 503);
    EXPECT_EQ(f->delay_ms, 10);
  }
  EXPECT_FALSE(faults.take());
  EXPECT_EQ(faults.get().fail_next, 0);
}

TEST(webhook_faults, fail_all_until_turned_off) {
  webhook_faults faults;
  auto s = faults.get();
  ASSERT_FALSE(merge_fault_request(R"({"fail_all":true})", s));
  faults.set(s);
  for (int i = 0; i < 5; ++i) {
    auto f = faults.take();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->status, 500);
  }
  s = faults.get();
  ASSERT_FALSE(merge_fault_request(R"({"fail_all":false})", s));
  faults.set(s);
  EXPECT_FALSE(faults.take());
}

TEST(webhook_faults, refuses_bad_requests_and_keeps_settings) {
  fault_settings s;
  s.fail_next = 1;
  for (const char* body :
       {"", "[]", R"({"fail_next":-1})", R"({"fail_next":"3"})",
        R"({"status":99})", R"({"status":600})", R"({"delay_ms":600000})",
        R"({"fail_all":1})", R"({"fail_next":1.5})"}) {
    EXPECT_TRUE(merge_fault_request(body, s)) << body;
  }
  EXPECT_EQ(s.fail_next, 1);
  EXPECT_EQ(s.status, 500);
}
