// Goal: the ids admin URLs carry are told apart from segments no object can
// have, which the routes answer as unknown ids (404 resource_missing).

#include "adapters/http/admin_ids.hpp"

#include <gtest/gtest.h>

namespace psp::http {
namespace {

TEST(admin_ids, stream_entry_ids_are_two_64_bit_decimals) {
  EXPECT_TRUE(is_stream_entry_id("1796114908000-0"));
  EXPECT_TRUE(is_stream_entry_id("0-0"));
  EXPECT_TRUE(is_stream_entry_id("18446744073709551615-18446744073709551615"));
  EXPECT_TRUE(is_stream_entry_id("000018446744073709551615-1"));
  for (auto* bad : {"nope", "", "-", "1-", "-1", "1", "1-2-3", "1-a", "1_2",
                    "18446744073709551616-0", "0-99999999999999999999",
                    "+1-0", " 1-0"}) {
    EXPECT_FALSE(is_stream_entry_id(bad)) << bad;
  }
}

TEST(admin_ids, object_ids_have_our_alphabet) {
  EXPECT_TRUE(is_object_id("acct_Kie818eiFejt8q4D8q4KF6bZ"));
  EXPECT_TRUE(is_object_id("recon_4zJDNLNOOcIN1xNLnCYQ1uXc"));
  for (auto* bad : {"", "acct_1:balances", "a b", "a-b", "acct_\xC3\xA9",
                    "*"}) {
    EXPECT_FALSE(is_object_id(bad)) << bad;
  }
  EXPECT_FALSE(is_object_id(std::string(256, 'a')));
}

} // namespace
} // namespace psp::http
