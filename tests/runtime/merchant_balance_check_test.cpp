// Checks that verify-ledger's merchant check accepts mirror hashes that
// equal the recomputed merchant accounts and names the merchant and account
// when one differs, is missing, or is not an integer.

#include "runtime/merchant_balance_check.hpp"

#include <gtest/gtest.h>

using namespace psp::ledger;

namespace {

std::vector<ledger_transaction> two_merchants() {
  return {{"1-0", "txn_1",
           {{"psp:card_network_receivable:usd", 2000, 0},
            {"merchant:acct_1:pending:usd", 0, 1912},
            {"psp:fee_revenue:usd", 0, 88}},
           ""},
          {"2-0", "txn_2",
           {{"psp:card_network_holds:usd", 700, 0},
            {"merchant:acct_2:held:usd", 0, 700}},
           ""}};
}

TEST(merchant_balance_check, equal_mirrors_pass) {
  merchant_balance_hashes hashes{
    {"acct_1", {{"merchant:acct_1:pending:usd", -1912}}},
    {"acct_2", {{"merchant:acct_2:held:usd", -700}}},
    {"acct_3", {}}}; // a merchant without activity
  auto r = check_merchant_balances(two_merchants(), hashes);
  EXPECT_TRUE(r.consistent()) << format_merchant_report(r);
  EXPECT_EQ(r.merchants, 3u);
  EXPECT_EQ(r.accounts, 2u);
}

TEST(merchant_balance_check, differences_name_merchant_and_account) {
  merchant_balance_hashes hashes{
    {"acct_1", {{"merchant:acct_1:pending:usd", -1911}}},
    {"acct_2", {{"merchant:acct_2:held:usd", std::nullopt}}}};
  auto r = check_merchant_balances(two_merchants(), hashes);
  ASSERT_EQ(r.differences.size(), 2u);
  EXPECT_EQ(r.differences[0].merchant, "acct_1");
  auto text = format_merchant_report(r);
  EXPECT_NE(text.find("merchant acct_1: account merchant:acct_1:pending:usd: "
                      "transactions give -1912, merchant:acct_1:balances has "
                      "-1911 (difference 1)"),
            std::string::npos)
    << text;
  EXPECT_NE(text.find("not an integer"), std::string::npos) << text;
}

TEST(merchant_balance_check, a_missing_mirror_is_a_difference) {
  auto r = check_merchant_balances(two_merchants(), {});
  ASSERT_EQ(r.differences.size(), 2u);
  EXPECT_EQ(r.differences[1].merchant, "acct_2");
  EXPECT_EQ(*r.differences[1].account.stored_minor, 0);
  EXPECT_EQ(merchant_of_account("merchant:acct_7:pending:usd"), "acct_7");
  EXPECT_FALSE(merchant_of_account("psp:fee_revenue:usd"));
}

} // namespace
