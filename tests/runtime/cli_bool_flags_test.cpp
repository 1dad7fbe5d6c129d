// Goal: a bool option of psp-node takes --psp.<name>=true|false (which CAF
// 0.17 refuses for a bool) as well as the bare flag; the last one wins and
// any other value is a configuration error.

#include "runtime/cli_bool_flags.hpp"

#include <gtest/gtest.h>

namespace psp {
namespace {

const std::string flag = "psp.webhook-private-addresses";

TEST(cli_bool_flags, true_false_and_the_bare_flag_are_taken_out) {
  std::vector<std::string> args{"psp-node", "--psp.http-port=1",
                                "--psp.webhook-private-addresses=true",
                                "--psp.log-level=info"};
  std::string err;
  EXPECT_EQ(take_bool_flag(args, flag, err), std::optional<bool>{true});
  EXPECT_EQ(err, "");
  EXPECT_EQ(args, (std::vector<std::string>{"psp-node", "--psp.http-port=1",
                                            "--psp.log-level=info"}));

  args = {"psp-node", "--psp.webhook-private-addresses=false"};
  EXPECT_EQ(take_bool_flag(args, flag, err), std::optional<bool>{false});
  EXPECT_EQ(args, std::vector<std::string>{"psp-node"});

  args = {"psp-node", "--psp.webhook-private-addresses"};
  EXPECT_EQ(take_bool_flag(args, flag, err), std::optional<bool>{true});
  EXPECT_EQ(args, std::vector<std::string>{"psp-node"});
}

TEST(cli_bool_flags, the_last_one_wins) {
  std::vector<std::string> args{"psp-node",
                                "--psp.webhook-private-addresses=true",
                                "--psp.webhook-private-addresses=false"};
  std::string err;
  EXPECT_EQ(take_bool_flag(args, flag, err), std::optional<bool>{false});
  args = {"psp-node", "--psp.webhook-private-addresses=false",
          "--psp.webhook-private-addresses"};
  EXPECT_EQ(take_bool_flag(args, flag, err), std::optional<bool>{true});
}

TEST(cli_bool_flags, absent_or_another_option_is_left_alone) {
  std::vector<std::string> args{"psp-node",
                                "--psp.webhook-private-addresses-x=1",
                                "--psp.webhook-schedule=0s"};
  std::string err;
  EXPECT_EQ(take_bool_flag(args, flag, err), std::nullopt);
  EXPECT_EQ(err, "");
  EXPECT_EQ(args.size(), 3u);
}

TEST(cli_bool_flags, another_value_is_an_error) {
  for (auto bad : {"1", "yes", "TRUE", ""}) {
    std::vector<std::string> args{
      "psp-node", std::string{"--psp.webhook-private-addresses="} + bad};
    std::string err;
    EXPECT_EQ(take_bool_flag(args, flag, err), std::nullopt) << bad;
    EXPECT_NE(err.find("webhook-private-addresses must be true or false"),
              std::string::npos)
      << err;
  }
}

} // namespace
} // namespace psp
