// Goal: `psp-admin verify-ledger` finds the ledger a real node writes
// consistent (exit 0), and names the account when Redis is corrupted on
// purpose (exit 1); an unreachable Redis is exit 3.

#include "tests/support/psp_stack.hpp"

#include <gtest/gtest.h>

namespace psp::test {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Runs a Redis command that must succeed.
::testing::AssertionResult redis_ok(psp_stack& stack,
                                    const std::vector<std::string>& argv) {
  auto reply = stack.redis_cmd(argv);
  if (!reply || !reply->ok()) {
    return ::testing::AssertionFailure()
           << argv[0] << " failed: " << (reply ? reply->str : "no answer");
  }
  return ::testing::AssertionSuccess();
}

process_result verify_ledger(const std::string& redis_address) {
  return run_to_exit(
      {psp_admin_binary(), "--redis", redis_address, "verify-ledger"}, 20s);
}

/// Pays `session_id` with `card` and waits for the outcome.
json pay_and_wait(psp_stack& stack, const std::string& session_id,
                  const std::string& card) {
  auto submitted = stack.pay(session_id, card);
  EXPECT_EQ(submitted.status, 303) << submitted.body;
  return stack.wait_for_outcome(session_id);
}

/// The fee revenue account, whatever its exact name (it may carry a
/// currency suffix); else the first account.
std::string fee_account(psp_stack& stack) {
  auto balances = stack.redis_hash("ledger:balances");
  for (auto& [account, _] : balances) {
    if (account.rfind("psp:fee_revenue", 0) == 0) {
      return account;
    }
  }
  return balances.empty() ? std::string{} : balances.begin()->first;
}

TEST(verify_ledger, real_ledger_passes_and_corruptions_are_named) {
  psp_stack stack;
  std::vector<std::string> sessions;
  for (int64_t amount : {2000, 1500, 990}) {
    sessions.push_back(stack.create_session(amount)["id"].get<std::string>());
  }
  // The second one is declined first, then paid with a good card.
  auto declined = pay_and_wait(stack, sessions[1], "4000000000000002");
  EXPECT_EQ(declined.value("intent_status", ""), "requires_payment_method")
      << declined.dump();
  for (auto& cs : sessions) {
    auto paid = pay_and_wait(stack, cs, "4242424242424242");
    ASSERT_EQ(paid.value("status", ""), "complete") << paid.dump();
  }
  ASSERT_EQ(stack.redis_len("ledger:transactions"), 3);
  ASSERT_TRUE(stack.ledger_balanced());

  auto ok = verify_ledger(stack.redis_address());
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_TRUE(contains(ok.out, "3 transactions")) << ok.out;
  EXPECT_TRUE(contains(ok.out, "result: consistent")) << ok.out;

  // 1. One stored balance moved by one minor unit.
  auto account = fee_account(stack);
  ASSERT_FALSE(account.empty());
  ASSERT_TRUE(redis_ok(stack, {"HINCRBY", "ledger:balances", account, "1"}));
  auto moved = verify_ledger(stack.redis_address());
  EXPECT_EQ(moved.exit_code, 1) << moved.out << moved.err;
  EXPECT_TRUE(contains(moved.out, "account " + account + ":")) << moved.out;
  EXPECT_TRUE(contains(moved.out, "(difference 1)")) << moved.out;
  EXPECT_TRUE(contains(moved.out, "sums to 1 (expected 0)")) << moved.out;
  ASSERT_TRUE(redis_ok(stack, {"HINCRBY", "ledger:balances", account, "-1"}));
  auto restored = verify_ledger(stack.redis_address());
  EXPECT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  // --flag=value is the same as --flag value.
  auto spelled = run_to_exit(
      {psp_admin_binary(), "--redis=" + stack.redis_address(),
       "verify-ledger"},
      20s);
  EXPECT_EQ(spelled.exit_code, 0) << spelled.out << spelled.err;
  EXPECT_TRUE(contains(spelled.out, "result: consistent")) << spelled.out;

  // 2. An unbalanced transaction appended behind the payment actors' back.
  ASSERT_TRUE(redis_ok(
      stack,
      {"XADD", "ledger:transactions", "*", "txn", "txn_corrupt", "intent",
       "pi_corrupt", "merchant", stack.merchant().id, "postings",
       R"([["verify_test:debit_side",100,0],["verify_test:credit_side",0,99]])",
       "created", "1700000000"}));
  auto unbalanced = verify_ledger(stack.redis_address());
  EXPECT_EQ(unbalanced.exit_code, 1) << unbalanced.out << unbalanced.err;
  EXPECT_TRUE(contains(unbalanced.out, "4 transactions")) << unbalanced.out;
  EXPECT_TRUE(contains(unbalanced.out, "(txn_corrupt): unbalanced"))
      << unbalanced.out;
  EXPECT_TRUE(contains(unbalanced.out, "account verify_test:debit_side:"))
      << unbalanced.out;
  EXPECT_TRUE(contains(unbalanced.out, "account verify_test:credit_side:"))
      << unbalanced.out;
}

TEST(verify_ledger, create_merchant_refuses_fees_no_merchant_can_pay) {
  // Refused before Redis is asked: nothing listens on this port.
  auto redis = "127.0.0.1:" + std::to_string(free_port());
  auto create = [&](const std::vector<std::string>& flags) {
    std::vector<std::string> argv{psp_admin_binary(), "--redis", redis,
                                  "create-merchant", "--name", "Fees"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return run_to_exit(argv, 20s);
  };
  struct refused_case {
    std::vector<std::string> flags;
    std::string message;
  };
  for (auto& c : std::vector<refused_case>{
         {{"--fee-bps", "99999"},
          "--fee-bps must be a whole number of basis points (100 = 1 %) from "
          "0 to 10000, not '99999'"},
         {{"--fee-bps=10001"}, "from 0 to 10000, not '10001'"},
         {{"--fee-bps", "-5"}, "not '-5'"},
         {{"--fee-fixed-minor", "-1"},
          "--fee-fixed-minor must be a whole number of minor units (cents) "
          "from 0 to 10000, not '-1'"},
         {{"--fee-fixed-minor", "99999999999"}, "not '99999999999'"},
         {{"--fee-fixed-minor=abc"}, "not 'abc'"}}) {
    auto res = create(c.flags);
    EXPECT_EQ(res.exit_code, 2) << c.flags[0] << ": " << res.err;
    EXPECT_TRUE(contains(res.err, c.message)) << res.err;
  }
  // Up to 100 % and 100.00 is allowed (Redis is asked, and unreachable).
  auto edge = create({"--fee-bps=10000", "--fee-fixed-minor", "10000"});
  EXPECT_EQ(edge.exit_code, 3) << edge.out << edge.err;
}

TEST(verify_ledger, duplicate_transaction_id_is_reported) {
  psp_stack stack;
  auto cs = stack.create_session(2000)["id"].get<std::string>();
  ASSERT_EQ(pay_and_wait(stack, cs, "4242424242424242").value("status", ""),
            "complete");
  auto entries = stack.redis_cmd({"XRANGE", "ledger:transactions", "-", "+"});
  ASSERT_TRUE(entries && entries->elements.size() == 1);
  // Append a copy of the one entry, fields unchanged.
  std::vector<std::string> xadd{"XADD", "ledger:transactions", "*"};
  for (auto& field : entries->elements[0].elements[1].elements) {
    xadd.push_back(field.str);
  }
  ASSERT_TRUE(redis_ok(stack, xadd));
  auto res = verify_ledger(stack.redis_address());
  EXPECT_EQ(res.exit_code, 1) << res.out << res.err;
  EXPECT_TRUE(contains(res.out, "duplicate transaction id")) << res.out;
}

TEST(verify_ledger, unreachable_redis_exits_3_and_bad_usage_2) {
  auto port = free_port();
  auto res = verify_ledger("127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(res.exit_code, 3) << res.out << res.err;
  EXPECT_TRUE(contains(res.err, "cannot read the ledger")) << res.err;
  auto usage = run_to_exit({psp_admin_binary(), "--redis", "127.0.0.1:6379",
                            "verify-ledger", "--name", "x"},
                           20s);
  EXPECT_EQ(usage.exit_code, 2) << usage.out << usage.err;
  EXPECT_TRUE(contains(usage.err, "--name is not an option of verify-ledger"))
    << usage.err;
  auto extra = run_to_exit(
      {psp_admin_binary(), "verify-ledger", "create-merchant"}, 20s);
  EXPECT_EQ(extra.exit_code, 2) << extra.out << extra.err;
  EXPECT_TRUE(contains(extra.err, "unexpected argument 'create-merchant'"))
    << extra.err;
  auto fee = run_to_exit({psp_admin_binary(), "create-merchant", "--name", "x",
                          "--fee-bps", "-5"},
                         20s);
  EXPECT_EQ(fee.exit_code, 2) << fee.out << fee.err;
  EXPECT_TRUE(contains(fee.err, "--fee-bps must be a whole number")) << fee.err;
  // --flag=value: the command after it is still the command.
  auto spelled = run_to_exit({psp_admin_binary(),
                              "--redis=127.0.0.1:" + std::to_string(port),
                              "verify-ledger"},
                             20s);
  EXPECT_EQ(spelled.exit_code, 3) << spelled.out << spelled.err;
  EXPECT_FALSE(contains(spelled.err, "no command given")) << spelled.err;
  auto bare = run_to_exit({psp_admin_binary(), "verify-ledger", "--redis"},
                          20s);
  EXPECT_EQ(bare.exit_code, 2) << bare.out << bare.err;
  EXPECT_TRUE(contains(bare.err, "--redis needs a value")) << bare.err;
  auto twice = run_to_exit({psp_admin_binary(), "--redis=a:1", "--redis",
                            "b:2", "verify-ledger"},
                           20s);
  EXPECT_EQ(twice.exit_code, 2) << twice.out << twice.err;
  EXPECT_TRUE(contains(twice.err, "--redis is given twice")) << twice.err;
  auto help = run_to_exit({psp_admin_binary(), "--help"}, 20s);
  EXPECT_EQ(help.exit_code, 0) << help.err;
  EXPECT_TRUE(contains(help.out, "usage: psp-admin")) << help.out;
}

} // namespace
} // namespace psp::test
