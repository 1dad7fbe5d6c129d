// Goal: psp-admin reads `--flag value` and `--flag=value` alike, refuses a
// flag without its value or given twice, and a bad number's message names
// the flag, its range and what was given.

#include "runtime/admin_flags.hpp"

#include <gtest/gtest.h>

namespace psp::admin {
namespace {

command_line parsed(const std::vector<std::string>& args) {
  auto out = parse_command_line(args);
  EXPECT_TRUE(std::holds_alternative<command_line>(out))
    << std::get<std::string>(out);
  return std::holds_alternative<command_line>(out) ? std::get<command_line>(out)
                                                   : command_line{};
}

std::string refusal(const std::vector<std::string>& args) {
  auto out = parse_command_line(args);
  return std::holds_alternative<std::string>(out) ? std::get<std::string>(out)
                                                  : "(accepted)";
}

TEST(admin_flags, both_spellings_of_a_flag_are_the_same) {
  auto a = parsed({"--redis=127.0.0.1:19379", "verify-ledger"});
  EXPECT_EQ(a.command, "verify-ledger");
  EXPECT_EQ(a.flags["--redis"], "127.0.0.1:19379");
  auto b = parsed({"--redis", "127.0.0.1:19379", "verify-ledger"});
  EXPECT_EQ(b.command, a.command);
  EXPECT_EQ(b.flags, a.flags);
  // '=' in a value, an empty value, a value that starts with "--", and a
  // negative number after a space.
  auto c = parsed({"create-merchant", "--name=a=b", "--fee-bps=",
                   "--fee-fixed-minor", "-5"});
  EXPECT_EQ(c.flags["--name"], "a=b");
  EXPECT_EQ(c.flags["--fee-bps"], "");
  EXPECT_EQ(c.flags["--fee-fixed-minor"], "-5");
  EXPECT_EQ(parsed({"x", "--name=--odd"}).flags["--name"], "--odd");
  EXPECT_TRUE(parsed({"verify-ledger", "-h"}).help);
}

TEST(admin_flags, a_flag_without_value_or_given_twice_is_refused) {
  EXPECT_EQ(refusal({"reconcile", "--from"}),
            "--from needs a value (--from VALUE or --from=VALUE)");
  // The next flag is not taken as the value.
  EXPECT_EQ(refusal({"reconcile", "--from", "--to", "5"}),
            "--from needs a value (--from VALUE or --from=VALUE)");
  EXPECT_EQ(refusal({"statement", "--to=5", "--to", "6"}),
            "--to is given twice");
  EXPECT_EQ(refusal({"verify-ledger", "archive"}),
            "unexpected argument 'archive'");
}

TEST(admin_flags, numbers_are_checked_against_their_range) {
  number_rule grace{0, 86'400, "a whole number of seconds"};
  EXPECT_EQ(std::get<int64_t>(whole_number("--grace-s", "300", grace)), 300);
  EXPECT_EQ(std::get<int64_t>(whole_number("--grace-s", "0", grace)), 0);
  EXPECT_EQ(std::get<int64_t>(whole_number("--grace-s", "86400", grace)),
            86'400);
  for (auto* bad : {"-1", "86401", "99999999999999999999", "abc", "", "1.5",
                    "5s", " 5"}) {
    auto out = whole_number("--grace-s", bad, grace);
    ASSERT_TRUE(std::holds_alternative<std::string>(out)) << bad;
    EXPECT_EQ(std::get<std::string>(out),
              std::string{"--grace-s must be a whole number of seconds from "
                          "0 to 86400, not '"}
                + bad + "'");
  }
}

} // namespace
} // namespace psp::admin
