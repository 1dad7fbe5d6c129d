// Checks that the ledger checker accepts a consistent ledger and reports every
// kind of inconsistency (unbalanced, negative, duplicate, malformed entries,
// stored balances that differ or do not sum to zero) with the accounts named.

#include "actors/ledger_account_names.hpp"
#include "runtime/ledger_check.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>

using namespace psp::ledger;
using kind = transaction_problem::kind;

namespace {

/// A payment of `amount` with fee `fee`, as the payment actor posts it.
ledger_transaction payment(const std::string& entry, const std::string& txn,
                           int64_t amount, int64_t fee,
                           const std::string& merchant = "acct_1") {
  return {entry,
          txn,
          {{"psp:receivable:usd", amount, 0},
           {"merchant:" + merchant + ":pending:usd", 0, amount - fee},
           {"psp:fee_revenue:usd", 0, fee}},
          ""};
}

/// The stored balances that match `transactions`.
stored_balances balances_of(const std::vector<ledger_transaction>& txns) {
  stored_balances out;
  for (auto& t : txns) {
    for (auto& leg : t.postings) {
      out[leg.account] =
          out[leg.account].value_or(0) + leg.debit_minor - leg.credit_minor;
    }
  }
  return out;
}

std::vector<ledger_transaction> three_payments() {
  return {payment("1-0", "txn_a", 2000, 88),
          payment("1-1", "txn_b", 1500, 74, "acct_2"),
          payment("2-0", "txn_c", 50, 31)};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

// -- consistent ---------------------------------------------------------------

TEST(ledger_check, consistent_ledger_passes) {
  auto txns = three_payments();
  auto report = check_ledger(txns, balances_of(txns));
  EXPECT_TRUE(report.consistent()) << format_report(report);
  EXPECT_EQ(report.transactions, 3u);
  EXPECT_EQ(report.accounts, 4u);
  EXPECT_EQ(report.stored_sum_minor, 0);
  auto text = format_report(report);
  EXPECT_TRUE(contains(text, "3 transactions, 4 accounts")) << text;
  EXPECT_TRUE(contains(text, "result: consistent")) << text;
}

TEST(ledger_check, empty_ledger_is_consistent) {
  auto report = check_ledger({}, {});
  EXPECT_TRUE(report.consistent());
  EXPECT_EQ(report.transactions, 0u);
  EXPECT_EQ(report.accounts, 0u);
}

TEST(ledger_check, account_names_are_opaque) {
  std::vector<ledger_transaction> txns{
      {"1-0", "t1", {{"a", 10, 0}, {"b:c:d:e:f", 0, 10}}, ""},
      {"1-1", "t2", {{"psp:fee_revenue", 5, 0}, {"weird name ü", 0, 5}}, ""}};
  EXPECT_TRUE(check_ledger(txns, balances_of(txns)).consistent());
}

TEST(ledger_check, stored_zero_and_absent_accounts_are_the_same) {
  std::vector<ledger_transaction> txns{
      {"1-0", "t1", {{"a", 10, 0}, {"b", 0, 10}}, ""},
      {"1-1", "t2", {{"b", 10, 0}, {"a", 0, 10}}, ""}};
  EXPECT_TRUE(check_ledger(txns, {}).consistent());
  EXPECT_TRUE(check_ledger(txns, {{"a", 0}, {"b", 0}, {"c", 0}}).consistent());
}

// -- transaction problems -----------------------------------------------------

TEST(ledger_check, unbalanced_transaction_is_reported_with_its_accounts) {
  auto txns = three_payments();
  auto balances = balances_of(txns);
  txns.push_back({"3-0",
                  "txn_bad",
                  {{"psp:receivable:usd", 1000, 0},
                   {"merchant:acct_9:pending:usd", 0, 999}},
                  ""});
  auto report = check_ledger(txns, balances);
  EXPECT_FALSE(report.consistent());
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].what, kind::unbalanced);
  EXPECT_EQ(report.problems[0].entry_id, "3-0");
  EXPECT_EQ(report.problems[0].txn, "txn_bad");
  // Its legs are applied: the stored balances no longer match.
  ASSERT_EQ(report.differences.size(), 2u);
  EXPECT_EQ(report.differences[0].account, "merchant:acct_9:pending:usd");
  EXPECT_EQ(report.differences[0].ledger_minor, -999);
  EXPECT_EQ(report.differences[0].stored_minor, 0);
  EXPECT_EQ(report.differences[1].account, "psp:receivable:usd");
  auto text = format_report(report);
  EXPECT_TRUE(contains(text, "unbalanced: debits 1000 != credits 999")) << text;
  EXPECT_TRUE(contains(text, "merchant:acct_9:pending:usd")) << text;
  EXPECT_TRUE(contains(text, "INCONSISTENT")) << text;
}

TEST(ledger_check, negative_leg_is_reported_even_when_balanced) {
  std::vector<ledger_transaction> txns{
      {"1-0", "t1", {{"a", -10, 0}, {"b", 0, -10}}, ""}};
  auto report = check_ledger(txns, balances_of(txns));
  ASSERT_EQ(report.problems.size(), 2u) << format_report(report);
  EXPECT_EQ(report.problems[0].what, kind::negative_leg);
  EXPECT_TRUE(contains(report.problems[0].detail, "a debit -10"));
  EXPECT_EQ(report.problems[1].what, kind::negative_leg);
  EXPECT_TRUE(report.differences.empty());
}

TEST(ledger_check, a_payment_sold_twice_under_two_ids_is_reported) {
  // Both balance: only the payment they name gives the second sale away.
  auto first = payment("1-0", "txn_a", 2000, 88);
  auto second = payment("1-1", "txn_b", 2000, 88);
  auto refund = payment("1-2", "txn_r", 500, 0);
  for (auto* t : {&first, &second}) {
    t->intent = "pi_1";
    t->op = "charge";
  }
  refund.intent = "pi_1";
  refund.op = "refund";
  auto refund_again = refund;
  refund_again.entry_id = "1-3";
  refund_again.txn = "txn_r2";
  std::vector<ledger_transaction> txns{first, refund, refund_again};
  EXPECT_TRUE(check_ledger(txns, balances_of(txns)).consistent())
    << "refunds may be many";
  txns.push_back(second);
  auto report = check_ledger(txns, balances_of(txns));
  EXPECT_FALSE(report.consistent());
  ASSERT_EQ(report.problems.size(), 1u) << format_report(report);
  EXPECT_EQ(report.problems[0].what, kind::repeated_step);
  EXPECT_TRUE(contains(report.problems[0].detail, "pi_1's sale also in entry 1-0"))
    << report.problems[0].detail;
  // An authorisation then a charge of one payment is a second sale too.
  second.op = "authorize";
  txns.back() = second;
  EXPECT_FALSE(check_ledger(txns, balances_of(txns)).consistent());
}

TEST(ledger_check, duplicate_transaction_id_is_reported) {
  auto txns = three_payments();
  txns.push_back(payment("5-0", "txn_b", 1500, 74, "acct_2"));
  auto report = check_ledger(txns, balances_of(txns));
  ASSERT_EQ(report.problems.size(), 1u) << format_report(report);
  EXPECT_EQ(report.problems[0].what, kind::duplicate);
  EXPECT_EQ(report.problems[0].entry_id, "5-0");
  EXPECT_EQ(report.problems[0].detail, "also in entry 1-1");
  EXPECT_TRUE(report.differences.empty());
  EXPECT_FALSE(report.consistent());
}

TEST(ledger_check, malformed_entry_is_reported_and_not_applied) {
  auto txns = three_payments();
  auto balances = balances_of(txns);
  txns.push_back(
      parse_transaction("6-0", {{"txn", "txn_x"}, {"postings", "not json"}}));
  auto report = check_ledger(txns, balances);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].what, kind::malformed);
  EXPECT_EQ(report.problems[0].txn, "txn_x");
  EXPECT_TRUE(report.differences.empty());
}

TEST(ledger_check, overflowing_sums_are_reported) {
  constexpr auto big = std::numeric_limits<int64_t>::max();
  std::vector<ledger_transaction> txns{
      {"1-0", "t1", {{"a", big, 0}, {"a", big, 0}, {"b", 0, 1}}, ""}};
  auto report = check_ledger(txns, {});
  EXPECT_FALSE(report.consistent());
  bool overflow = false;
  for (auto& p : report.problems) {
    overflow = overflow || p.what == kind::overflow;
  }
  EXPECT_TRUE(overflow) << format_report(report);
}

// -- stored balances ----------------------------------------------------------

TEST(ledger_check, changed_stored_balance_is_reported_with_both_amounts) {
  auto txns = three_payments();
  auto balances = balances_of(txns);
  balances["psp:fee_revenue:usd"] = *balances["psp:fee_revenue:usd"] + 1;
  auto report = check_ledger(txns, balances);
  EXPECT_FALSE(report.consistent());
  EXPECT_TRUE(report.problems.empty());
  ASSERT_EQ(report.differences.size(), 1u);
  EXPECT_EQ(report.differences[0].account, "psp:fee_revenue:usd");
  EXPECT_EQ(report.differences[0].ledger_minor, -(88 + 74 + 31));
  EXPECT_EQ(report.differences[0].stored_minor, -(88 + 74 + 31) + 1);
  EXPECT_EQ(report.stored_sum_minor, 1);
  auto text = format_report(report);
  EXPECT_TRUE(contains(text, "account psp:fee_revenue:usd: transactions give "
                             "-193, ledger:balances has -192 (difference 1)"))
      << text;
  EXPECT_TRUE(contains(text, "sums to 1 (expected 0)")) << text;
}

TEST(ledger_check, stored_account_without_transactions_is_reported) {
  auto txns = three_payments();
  auto balances = balances_of(txns);
  balances["ghost"] = 5;
  balances["psp:receivable:usd"] = *balances["psp:receivable:usd"] - 5;
  auto report = check_ledger(txns, balances);
  EXPECT_EQ(report.stored_sum_minor, 0);
  ASSERT_EQ(report.differences.size(), 2u);
  EXPECT_EQ(report.differences[0].account, "ghost");
  EXPECT_EQ(report.differences[0].ledger_minor, 0);
  EXPECT_EQ(report.accounts, 5u);
}

TEST(ledger_check, missing_or_non_integer_stored_balance_is_reported) {
  auto txns = three_payments();
  auto balances = balances_of(txns);
  balances.erase("psp:receivable:usd");
  auto report = check_ledger(txns, balances);
  ASSERT_EQ(report.differences.size(), 1u);
  EXPECT_EQ(report.differences[0].stored_minor, 0);
  balances = balances_of(txns);
  balances["psp:receivable:usd"] = std::nullopt;
  report = check_ledger(txns, balances);
  ASSERT_EQ(report.differences.size(), 1u);
  EXPECT_EQ(report.differences[0].stored_minor, std::nullopt);
  EXPECT_EQ(report.stored_sum_minor, std::nullopt);
  auto text = format_report(report);
  EXPECT_TRUE(contains(text, "not an integer")) << text;
  EXPECT_TRUE(contains(text, "cannot be computed")) << text;
}

TEST(ledger_check, report_is_bounded) {
  auto txns = three_payments();
  stored_balances balances;
  for (int i = 0; i < 200; ++i) {
    balances["acct_" + std::to_string(i)] = 1;
  }
  auto report = check_ledger(txns, balances);
  auto text = format_report(report, 10);
  EXPECT_TRUE(contains(text, "... and 194 more")) << text;
  EXPECT_LT(std::count(text.begin(), text.end(), '\n'), 16);
}

// -- parsing ------------------------------------------------------------------

TEST(ledger_check, parses_postings) {
  auto parsed = parse_postings(R"([["a",2000,0],["b",0,1912],["c",0,88]])", "acct_1");
  ASSERT_TRUE(std::holds_alternative<std::vector<ledger_leg>>(parsed));
  auto& legs = std::get<std::vector<ledger_leg>>(parsed);
  ASSERT_EQ(legs.size(), 3u);
  EXPECT_EQ(legs[1].account, "b");
  EXPECT_EQ(legs[1].credit_minor, 1912);
  // Negative amounts parse; the check reports them.
  EXPECT_TRUE(std::holds_alternative<std::vector<ledger_leg>>(
      parse_postings(R"([["a",-1,0]])", "acct_1")));
}

TEST(ledger_check, stores_only_the_entrys_own_merchant_accounts_relative) {
  using psp::ledger_names::full_account;
  using psp::ledger_names::stored_account;
  EXPECT_EQ(stored_account("merchant:acct_1:pending:usd", "acct_1"),
            ":pending:usd");
  for (auto [account, merchant] :
       {std::pair{"merchant:acct_12:pending:usd", "acct_1"}, // another one
        {"merchant:acct_1:pending:usd", ""},
        {"merchant:acct_1:", "acct_1"},
        {"psp:fee_revenue:usd", "acct_1"},
        {"merchant:acct_1", "acct_1"}}) {
    SCOPED_TRACE(account);
    EXPECT_EQ(stored_account(account, merchant), account);
  }
  for (auto account :
       {"merchant:acct_1:pending:usd", "merchant:acct_1:held:jpy",
        "merchant:acct_2:pending:usd", "psp:card_network_receivable:usd"}) {
    EXPECT_EQ(full_account(stored_account(account, "acct_1"), "acct_1"),
              account);
  }
  EXPECT_EQ(full_account(":held:usd", ""), std::nullopt);
}

TEST(ledger_check, expands_the_entrys_own_merchant_accounts) {
  auto parsed = parse_postings(
      R"([["psp:card_network_holds:usd",0,700],[":held:usd",700,0],)"
      R"(["merchant:acct_2:pending:usd",0,0]])",
      "acct_1");
  ASSERT_TRUE(std::holds_alternative<std::vector<ledger_leg>>(parsed));
  auto& legs = std::get<std::vector<ledger_leg>>(parsed);
  EXPECT_EQ(legs[0].account, "psp:card_network_holds:usd");
  EXPECT_EQ(legs[1].account, "merchant:acct_1:held:usd");
  EXPECT_EQ(legs[2].account, "merchant:acct_2:pending:usd"); // in full: kept
  // A relative name needs the entry's merchant.
  EXPECT_TRUE(std::holds_alternative<std::string>(
      parse_postings(R"([[":held:usd",1,0]])", "")));
  auto t = parse_transaction("8-1", {{"txn", "txn_1"},
                                     {"postings", R"([[":held:usd",5,0],)"
                                                  R"(["psp:x",0,5]])"}});
  EXPECT_NE(t.malformed.find("without a merchant"), std::string::npos)
      << t.malformed;
  t = parse_transaction("8-2", {{"txn", "txn_1"},
                                {"merchant", "acct_7"},
                                {"postings", R"([[":held:usd",5,0],)"
                                             R"(["psp:x",0,5]])"}});
  ASSERT_EQ(t.malformed, "");
  EXPECT_EQ(t.postings[0].account, "merchant:acct_7:held:usd");
}

TEST(ledger_check, rejects_malformed_postings) {
  for (auto bad :
       {"", "{}", "[]", "null", "[[\"a\",1]]", "[[\"a\",1,2,3]]", "[[1,1,1]]",
        "[[\"\",1,1]]", "[[\"a\",1.5,0]]", "[[\"a\",\"1\",0]]",
        "[[\"a\",9223372036854775808,0]]", "[\"a\"]", "[[\"a\",1,0]"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(
        std::holds_alternative<std::string>(parse_postings(bad, "acct_1")));
  }
}

TEST(ledger_check, parses_transactions_from_stream_fields) {
  auto t = parse_transaction("7-1", {{"txn", "txn_1"},
                                     {"intent", "pi_1"},
                                     {"merchant", "acct_1"},
                                     {"postings", R"([["a",5,0],["b",0,5]])"},
                                     {"created", "1700000000"}});
  EXPECT_EQ(t.entry_id, "7-1");
  EXPECT_EQ(t.txn, "txn_1");
  EXPECT_EQ(t.malformed, "");
  EXPECT_EQ(t.postings.size(), 2u);
  EXPECT_FALSE(parse_transaction("7-2", {{"txn", "t"}}).malformed.empty());
  EXPECT_FALSE(
      parse_transaction("7-3", {{"postings", R"([["a",5,0],["b",0,5]])"}})
          .malformed.empty());
}

TEST(ledger_check, parses_balances_strictly) {
  EXPECT_EQ(parse_balance("0"), 0);
  EXPECT_EQ(parse_balance("-193"), -193);
  EXPECT_EQ(parse_balance("9223372036854775807"),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parse_balance("-9223372036854775808"),
            std::numeric_limits<int64_t>::min());
  for (auto bad :
       {"", "-", "+5", "1.5", "12a", " 1", "9223372036854775808", "abc"}) {
    EXPECT_EQ(parse_balance(bad), std::nullopt) << bad;
  }
}

TEST(ledger_check, next_stream_id_is_the_smallest_greater_id) {
  EXPECT_EQ(next_stream_id("5-3"), "5-4");
  EXPECT_EQ(next_stream_id("1700000000000-0"), "1700000000000-1");
  EXPECT_EQ(next_stream_id("5-18446744073709551615"), "6-0");
  EXPECT_EQ(next_stream_id("18446744073709551615-18446744073709551615"),
            std::nullopt);
  for (auto bad : {"", "5", "5-", "-3", "a-b", "5-3-1", "5--3"}) {
    EXPECT_EQ(next_stream_id(bad), std::nullopt) << bad;
  }
}
