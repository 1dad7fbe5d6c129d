// Goal: whatever sequence of payments, declines, manual captures (partial),
// voids and partial refunds a merchant makes through the HTTP API, the
// ledger stays balanced, every merchant's balance equals its recomputation,
// the statement's closing balance is its opening plus its movements, and
// per payment the receivable equals captured minus refunded. The sequence
// is random with a printed seed (PSP_PROPERTY_SEED=N replays one).

#include "actors/ledger_account_names.hpp"
#include "tests/support/payment_flows.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

namespace psp::test {
namespace {

constexpr int steps = 200;

std::string str(const json& v) {
  return v.is_string() ? v.get<std::string>() : std::string{};
}

/// What the test believes about one payment.
struct payment_model {
  std::string currency;
  int64_t held_minor = 0;
  int64_t captured_minor = 0;
  int64_t refunded_minor = 0;
  bool open_hold = false;
};

class sequence_runner {
public:
  sequence_runner(psp_stack& stack, uint32_t seed)
    : stack_(stack), rng_(seed) {
  }

  void step() {
    switch (pick(0, 9)) {
      case 0: case 1: case 2: return pay();
      case 3: return decline();
      case 4: case 5: return authorize();
      case 6: return capture();
      case 7: return void_hold();
      default: return refund();
    }
  }

  const std::map<std::string, payment_model>& payments() const {
    return payments_;
  }

  /// How many times each flow ran: "pay", "decline", ...
  const std::map<std::string, int>& done() const { return done_; }

private:
  int64_t pick(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>{lo, hi}(rng_);
  }
  std::string currency() { return pick(0, 3) == 0 ? "eur" : "usd"; }

  /// A random payment id satisfying `pred`, "" when none.
  template <class Pred>
  std::string any(Pred pred) {
    std::vector<std::string> ids;
    for (auto& [id, p] : payments_) {
      if (pred(p)) {
        ids.push_back(id);
      }
    }
    return ids.empty() ? "" : ids[pick(0, ids.size() - 1)];
  }

  void pay() {
    auto cur = currency();
    auto amount = pick(50, 50'000);
    auto pi = create_intent(stack_, amount, cur);
    ASSERT_EQ(pi.value("status", ""), "succeeded") << pi.dump();
    payments_[str(pi["id"])] = {cur, 0, amount, 0, false};
    ++done_["pay"];
  }

  void decline() {
    auto out = create_intent(stack_, pick(50, 9'000), currency(), false,
                             "pm_card_chargeDeclined");
    ASSERT_TRUE(out.contains("error")) << out.dump();
    EXPECT_EQ(out["error"].value("code", ""), "card_declined") << out.dump();
    ++done_["decline"];
  }

  void authorize() {
    auto cur = currency();
    auto amount = pick(100, 20'000);
    auto pi = create_intent(stack_, amount, cur, true);
    ASSERT_EQ(pi.value("status", ""), "requires_capture") << pi.dump();
    payments_[str(pi["id"])] = {cur, amount, 0, 0, true};
    ++done_["authorize"];
  }

  void capture() {
    auto id = any([](const payment_model& p) { return p.open_hold; });
    if (id.empty()) {
      return authorize();
    }
    auto& p = payments_[id];
    auto amount = pick(0, 1) == 0 ? p.held_minor : pick(50, p.held_minor);
    auto pi = capture_intent(stack_, id, amount);
    ASSERT_EQ(pi.value("status", ""), "succeeded") << pi.dump();
    p.captured_minor = amount;
    p.open_hold = false;
    ++done_[amount < p.held_minor ? "capture_partial" : "capture_full"];
  }

  void void_hold() {
    auto id = any([](const payment_model& p) { return p.open_hold; });
    if (id.empty()) {
      return decline();
    }
    auto pi = cancel_intent(stack_, id);
    ASSERT_EQ(pi.value("status", ""), "canceled") << pi.dump();
    payments_[id].open_hold = false;
    ++done_["void"];
  }

  void refund() {
    auto id = any([](const payment_model& p) {
      return p.captured_minor > p.refunded_minor;
    });
    if (id.empty()) {
      return pay();
    }
    auto& p = payments_[id];
    auto left = p.captured_minor - p.refunded_minor;
    auto amount = pick(1, left);
    auto r = refund_intent(stack_, id, amount);
    ASSERT_EQ(r.value("status", ""), "succeeded") << r.dump();
    p.refunded_minor += amount;
    ++done_["refund"];
  }

  psp_stack& stack_;
  std::mt19937 rng_;
  std::map<std::string, payment_model> payments_;
  std::map<std::string, int> done_;
};

uint32_t seed_of_run() {
  if (const char* env = std::getenv("PSP_PROPERTY_SEED")) {
    return static_cast<uint32_t>(std::stoul(env));
  }
  return std::random_device{}();
}

/// Per intent and account: debits - credits over the ledger stream.
std::map<std::string, std::map<std::string, int64_t>>
ledger_by_intent(psp_stack& stack) {
  std::map<std::string, std::map<std::string, int64_t>> out;
  auto entries = stack.redis_cmd({"XRANGE", "ledger:transactions", "-", "+"});
  for (auto& e : entries->elements) {
    std::string intent;
    std::string merchant;
    json postings;
    auto& kv = e.elements[1].elements;
    for (size_t i = 0; i + 1 < kv.size(); i += 2) {
      if (kv[i].str == "intent") {
        intent = kv[i + 1].str;
      } else if (kv[i].str == "merchant") {
        merchant = kv[i + 1].str;
      } else if (kv[i].str == "postings") {
        postings = json::parse(kv[i + 1].str);
      }
    }
    for (auto& p : postings) {
      auto account =
          ledger_names::full_account(p[0].get<std::string>(), merchant);
      out[intent][account.value_or("(relative, no merchant)")] +=
          p[1].get<int64_t>() - p[2].get<int64_t>();
    }
  }
  return out;
}

TEST(ledger_property, random_sequences_keep_every_invariant) {
  auto seed = seed_of_run();
  SCOPED_TRACE("seed " + std::to_string(seed)
               + " (replay: PSP_PROPERTY_SEED=" + std::to_string(seed) + ")");
  std::cout << "[ seed ] " << seed << std::endl;
  psp_stack stack;
  auto from_s = now_s() - 1;
  sequence_runner runner{stack, seed};
  for (int i = 0; i < steps && !::testing::Test::HasFatalFailure(); ++i) {
    runner.step();
  }
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  for (auto& [flow, n] : runner.done()) {
    std::cout << "[ flow ] " << flow << " x" << n << std::endl;
  }
  for (auto* flow : {"pay", "decline", "authorize", "capture_partial",
                     "capture_full", "void", "refund"}) {
    EXPECT_GT(runner.done().count(flow), 0u) << flow << " never ran";
  }
  auto to_s = now_s() + 1;

  // 1. verify-ledger: balanced, stored balances and merchant mirrors agree.
  auto verified = run_to_exit({psp_admin_binary(), "--redis",
                               stack.redis_address(), "verify-ledger"},
                              30s);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  // 2. Per payment: receivable = captured - refunded; holds net to zero
  //    once captured or voided.
  auto ledger = ledger_by_intent(stack);
  for (auto& [id, p] : runner.payments()) {
    auto& accounts = ledger[id];
    auto pi = stack.redis_hash("pi:" + id);
    auto receivable = accounts["psp:card_network_receivable:" + p.currency];
    EXPECT_EQ(receivable, p.captured_minor - p.refunded_minor) << id;
    EXPECT_EQ(receivable, std::stoll(pi["amount_received"].empty()
                                       ? "0" : pi["amount_received"])
                            - std::stoll(pi["amount_refunded"].empty()
                                           ? "0" : pi["amount_refunded"]))
      << id;
    auto holds = accounts["psp:card_network_holds:" + p.currency];
    EXPECT_EQ(holds, p.open_hold ? p.held_minor : 0) << id;
    // The merchant's side, stored relative in each entry, under its full
    // name once read.
    EXPECT_EQ(accounts["merchant:" + stack.merchant().id + ":held:"
                       + p.currency], -holds) << id;
  }

  // 3. The statement: closing = opening + movements, equal to the ledger
  //    and to the merchant's balance. It covers a period that has ended.
  ASSERT_TRUE(wait_until([&] { return now_s() >= to_s; }, 5s));
  auto cli = run_to_exit({psp_admin_binary(), "--redis", stack.redis_address(),
                          "statement", "--merchant", stack.merchant().id,
                          "--from", std::to_string(from_s), "--to",
                          std::to_string(to_s), "--format", "json"},
                         30s);
  ASSERT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  auto statement = json::parse(cli.out);
  EXPECT_TRUE(statement.value("consistent", false)) << cli.out;
  auto mirror = stack.redis_hash("merchant:" + stack.merchant().id
                                 + ":balances");
  for (auto& t : statement["totals"]) {
    auto cur = t["currency"].get<std::string>();
    int64_t net = 0;
    for (auto& l : statement["lines"]) {
      if (l["currency"] == cur) {
        net += l["net_minor"].get<int64_t>();
      }
    }
    EXPECT_EQ(t["opening_minor"].get<int64_t>(), 0) << cur;
    EXPECT_EQ(t["net_minor"].get<int64_t>(), net) << cur;
    EXPECT_EQ(t["closing_minor"].get<int64_t>(),
              t["opening_minor"].get<int64_t>() + net)
      << cur;
    auto pending = "merchant:" + stack.merchant().id + ":pending:" + cur;
    EXPECT_EQ(t["closing_minor"].get<int64_t>(), -std::stoll(mirror[pending]))
      << cur;
  }

  // 4. And the network agrees with all of it.
  auto recon = admin_reconcile(stack, from_s, to_s);
  EXPECT_EQ(recon.body_json().value("status", ""), "clean") << recon.body;
}

} // namespace
} // namespace psp::test
