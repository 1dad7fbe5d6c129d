// Goal: check the simulator's pure logic (card table, validation,
// idempotency table, ledger bounds, fault knobs, settlement view, flags)
// without a process, including every rejection path. Captures, voids and
// settlement faults have their own files next to this one.

#include "admin_views.hpp"
#include "faults.hpp"
#include "idempotency_table.hpp"
#include "ledger_book.hpp"
#include "request_parsing.hpp"
#include "sim_options.hpp"
#include "test_cards.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <future>
#include <random>
#include <thread>

namespace {

using namespace psp::sim;
using json = nlohmann::json;
using namespace std::chrono_literals;

TEST(TestCards, LuhnAndBrand) {
  EXPECT_TRUE(luhn_valid("4242424242424242"));
  EXPECT_TRUE(luhn_valid("5555555555554444"));
  EXPECT_FALSE(luhn_valid("4242424242424241"));
  EXPECT_FALSE(luhn_valid(""));
  EXPECT_EQ(card_brand("4242424242424242"), "visa");
  EXPECT_EQ(card_brand("5555555555554444"), "mastercard");
  EXPECT_EQ(card_brand("2223003122003222"), "mastercard");
  EXPECT_EQ(card_brand("378282246310005"), "amex");
  EXPECT_EQ(card_brand("6011111111111117"), "discover");
  EXPECT_EQ(card_brand("9999999999999995"), "unknown");
  EXPECT_EQ(card_last4("4000000000000002"), "0002");
}

TEST(TestCards, Verdicts) {
  EXPECT_TRUE(classify_card("4242424242424242").approved());
  EXPECT_TRUE(classify_card("6011111111111117").approved());
  EXPECT_EQ(classify_card("4000000000000002").decline_code, "card_declined");
  EXPECT_EQ(classify_card("4000000000009995").decline_code,
            "insufficient_funds");
  EXPECT_EQ(classify_card("4000000000000069").decline_code, "expired_card");
  EXPECT_EQ(classify_card("4000000000000127").decline_code, "incorrect_cvc");
  EXPECT_EQ(classify_card("4000000000000119").decline_code, "processing_error");
  EXPECT_EQ(classify_card("4242424242424241").decline_code, "incorrect_number");
  EXPECT_EQ(classify_card("4000000000009987").decline_code, "lost_card");
  EXPECT_EQ(classify_card("4000000000009979").decline_code, "stolen_card");
  EXPECT_EQ(classify_card("4100000000000019").decline_code, "fraudulent");
  EXPECT_EQ(classify_card("4000000000000341").decline_code, "card_declined");
}

json good_charge() {
  return {{"amount", 2000},
          {"currency", "usd"},
          {"card_number", "4242424242424242"},
          {"exp_month", 12},
          {"exp_year", 2030},
          {"cvc", "123"},
          {"reference", "pi_1"}};
}

std::string charge_error(const std::string& field, const json& value) {
  auto body = good_charge();
  if (value.is_null()) {
    body.erase(field);
  } else {
    body[field] = value;
  }
  return parse_charge_request(body.dump()).error;
}

TEST(RequestParsing, AcceptsAValidCharge) {
  auto parsed = parse_charge_request(good_charge().dump());
  ASSERT_TRUE(parsed.value) << parsed.error;
  EXPECT_EQ(parsed.value->amount_minor, 2000);
  EXPECT_EQ(parsed.value->reference, "pi_1");
}

TEST(RequestParsing, RejectsBadCharges) {
  EXPECT_FALSE(parse_charge_request("not json").error.empty());
  EXPECT_FALSE(parse_charge_request("[1]").error.empty());
  EXPECT_FALSE(charge_error("amount", 0).empty());
  EXPECT_FALSE(charge_error("amount", "20").empty());
  EXPECT_FALSE(charge_error("amount", 100000000).empty());
  EXPECT_FALSE(charge_error("amount", 18446744073709551615ull).empty());
  EXPECT_FALSE(charge_error("currency", "us").empty());
  EXPECT_FALSE(charge_error("currency", "USD").empty());
  EXPECT_FALSE(charge_error("reference", nullptr).empty());
  EXPECT_FALSE(charge_error("reference", std::string(256, 'r')).empty());
  EXPECT_FALSE(charge_error("merchant", 5).empty());
  EXPECT_FALSE(charge_error("exp_month", 13).empty());
  EXPECT_FALSE(charge_error("exp_year", 30).empty());
  EXPECT_FALSE(charge_error("cvc", "12").empty());
  EXPECT_FALSE(charge_error("cvc", 123).empty());
  auto err = charge_error("card_number", "4242x42424242424");
  EXPECT_FALSE(err.empty());
  EXPECT_EQ(err.find("4242x"), std::string::npos);
}

TEST(RequestParsing, CaptureFlagDefaultsToTrueAndMustBeABoolean) {
  EXPECT_TRUE(parse_charge_request(good_charge().dump()).value->capture);
  auto body = good_charge();
  body["capture"] = false;
  auto parsed = parse_charge_request(body.dump());
  ASSERT_TRUE(parsed.value) << parsed.error;
  EXPECT_FALSE(parsed.value->capture);
  EXPECT_FALSE(charge_error("capture", "false").empty());
  EXPECT_FALSE(charge_error("capture", 0).empty());
}

TEST(RequestParsing, CaptureBodiesAndChargeIds) {
  auto none = parse_capture_request("");
  ASSERT_TRUE(none.value) << none.error;
  EXPECT_FALSE(none.value->amount_minor);
  auto empty = parse_capture_request("{}");
  ASSERT_TRUE(empty.value) << empty.error;
  EXPECT_FALSE(empty.value->amount_minor);
  auto some = parse_capture_request(R"({"amount":1500})");
  ASSERT_TRUE(some.value) << some.error;
  EXPECT_EQ(some.value->amount_minor, 1500);
  EXPECT_FALSE(parse_capture_request(R"({"amount":0})").value);
  EXPECT_FALSE(parse_capture_request(R"({"amount":"5"})").value);
  EXPECT_FALSE(parse_capture_request(R"({"amount":100000000})").value);
  EXPECT_FALSE(parse_capture_request("not json").value);
  EXPECT_FALSE(parse_capture_request("[]").value);
  EXPECT_TRUE(valid_charge_id("ch_0123abcd"));
  EXPECT_FALSE(valid_charge_id(""));
  EXPECT_FALSE(valid_charge_id("ch 1"));
  EXPECT_FALSE(valid_charge_id(std::string(256, 'c')));
}

TEST(RequestParsing, RefundsAndKeys) {
  EXPECT_TRUE(parse_refund_request(R"({"charge":"ch_1","amount":5})").value);
  EXPECT_FALSE(parse_refund_request(R"({"charge":"ch_1"})").value);
  EXPECT_FALSE(parse_refund_request(R"({"amount":5})").value);
  EXPECT_TRUE(valid_idempotency_key("abc-123_X"));
  EXPECT_FALSE(valid_idempotency_key(""));
  EXPECT_FALSE(valid_idempotency_key("a b"));
  EXPECT_FALSE(valid_idempotency_key(std::string(256, 'k')));
  EXPECT_FALSE(valid_idempotency_key("\xc3\xa9"));
}

request_fingerprint fp(int64_t amount) {
  return {"charge", "pi_1", amount, "usd"};
}

TEST(IdempotencyTable, OwnerReplayConflictRelease) {
  idempotency_table keys{10, 1s};
  auto first = keys.claim("k", fp(1));
  ASSERT_EQ(first.kind, claim_kind::owner);
  keys.complete("k", first.ticket, {200, "body"});
  auto again = keys.claim("k", fp(1));
  EXPECT_EQ(again.kind, claim_kind::replay);
  EXPECT_EQ(again.response.body, "body");
  EXPECT_EQ(keys.claim("k", fp(2)).kind, claim_kind::conflict);
  auto other = keys.claim("other", fp(1));
  ASSERT_EQ(other.kind, claim_kind::owner);
  keys.release("other", other.ticket);
  EXPECT_EQ(keys.claim("other", fp(1)).kind, claim_kind::owner);
}

TEST(IdempotencyTable, CaptureFlagAndEndpointArePartOfTheFingerprint) {
  idempotency_table keys{10, 1s};
  auto first = keys.claim("k", fp(1));
  ASSERT_EQ(first.kind, claim_kind::owner);
  keys.complete("k", first.ticket, {200, "body"});
  auto authorise_only = fp(1);
  authorise_only.capture = false;
  EXPECT_EQ(keys.claim("k", authorise_only).kind, claim_kind::conflict);
  EXPECT_EQ(keys.claim("k", {"capture", "pi_1", 1, "usd"}).kind,
            claim_kind::conflict);
  EXPECT_EQ(keys.claim("k", fp(1)).kind, claim_kind::replay);
}

TEST(IdempotencyTable, CapacityAndBusy) {
  idempotency_table keys{1, 50ms};
  auto first = keys.claim("a", fp(1));
  ASSERT_EQ(first.kind, claim_kind::owner);
  EXPECT_EQ(keys.claim("b", fp(1)).kind, claim_kind::capacity);
  EXPECT_EQ(keys.claim("a", fp(1)).kind, claim_kind::busy);
}

TEST(IdempotencyTable, WaiterGetsTheOwnersAnswer) {
  idempotency_table keys{10, 5s};
  auto owner = keys.claim("k", fp(1));
  auto waiter =
      std::async(std::launch::async, [&] { return keys.claim("k", fp(1)); });
  EXPECT_EQ(waiter.wait_for(20ms), std::future_status::timeout);
  keys.complete("k", owner.ticket, {402, "declined"});
  auto got = waiter.get();
  EXPECT_EQ(got.kind, claim_kind::replay);
  EXPECT_EQ(got.response.status, 402);
}

TEST(IdempotencyTable, CompleteAfterClearIsIgnored) {
  idempotency_table keys{10, 1s};
  auto stale = keys.claim("k", fp(1));
  keys.clear();
  auto fresh = keys.claim("k", fp(1));
  ASSERT_EQ(fresh.kind, claim_kind::owner);
  keys.complete("k", stale.ticket, {200, "stale"});
  keys.complete("k", fresh.ticket, {200, "fresh"});
  EXPECT_EQ(keys.claim("k", fp(1)).response.body, "fresh");
}

charge_record make_charge(const std::string& id, int64_t amount,
                          const std::string& decline = {}) {
  charge_record c;
  c.id = id;
  c.reference = "pi_" + id;
  c.currency = "usd";
  c.amount_minor = amount;
  c.decline_code = decline;
  c.created_s = 100;
  return c;
}

TEST(LedgerBook, RefundsAreBoundedAndCapacityHolds) {
  ledger_book ledger{3};
  ASSERT_TRUE(ledger.record_charge(make_charge("ch_a", 1000)));
  ASSERT_TRUE(ledger.record_charge(make_charge("ch_d", 1000, "card_declined")));
  refund_record r;
  r.charge_id = "ch_a";
  r.amount_minor = 1001;
  EXPECT_EQ(ledger.record_refund(r), refund_outcome::amount_too_large);
  r.amount_minor = 400;
  EXPECT_EQ(ledger.record_refund(r), refund_outcome::recorded);
  EXPECT_EQ(r.reference, "pi_ch_a");
  r.amount_minor = 100;
  EXPECT_EQ(ledger.record_refund(r), refund_outcome::capacity);
  r.charge_id = "ch_d";
  EXPECT_EQ(ledger.record_refund(r), refund_outcome::amount_too_large);
  r.charge_id = "ch_x";
  EXPECT_EQ(ledger.record_refund(r), refund_outcome::charge_not_found);
  EXPECT_FALSE(ledger.record_charge(make_charge("ch_b", 1)));
  auto counts = ledger.succeeded_counts();
  EXPECT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts["pi_ch_a"], 1u);
}

// The report used to be sorted by (created, id); it now keeps recording
// order, so a line recorded later is never listed before an earlier one even
// when the clock steps back.
TEST(AdminViews, SettlementKeepsRecordingOrderAndFilters) {
  ledger_book ledger{10};
  auto late = make_charge("ch_b", 10);
  late.created_s = 200;
  ASSERT_TRUE(ledger.record_charge(late));
  ASSERT_TRUE(ledger.record_charge(make_charge("ch_a", 20)));
  ASSERT_TRUE(ledger.record_charge(make_charge("ch_d", 30, "card_declined")));
  refund_record r;
  r.id = "re_a";
  r.charge_id = "ch_a";
  r.amount_minor = 5;
  r.created_s = 100;
  ASSERT_EQ(ledger.record_refund(r), refund_outcome::recorded);
  auto all = settlement_view(ledger.settlement(), {}, {});
  ASSERT_EQ(all["lines"].size(), 3u);
  EXPECT_EQ(all["lines"][0]["id"], "ch_b");
  EXPECT_EQ(all["lines"][1]["id"], "ch_a");
  EXPECT_EQ(all["lines"][2]["id"], "re_a");
  EXPECT_EQ(all["from"], nullptr);
  EXPECT_EQ(all["to"], nullptr);
  auto window = parse_settlement_window("150", "201");
  ASSERT_TRUE(window);
  auto some = settlement_view(ledger.settlement(), *window, {});
  ASSERT_EQ(some["lines"].size(), 1u);
  EXPECT_EQ(some["lines"][0]["type"], "capture");
  EXPECT_EQ(some["from"], 150);
  EXPECT_EQ(some["to"], 201);
  EXPECT_FALSE(parse_settlement_window("1x", ""));
  EXPECT_FALSE(parse_settlement_window("", "2.5"));
}

TEST(Faults, PatchValidatesAtomically) {
  fault_knobs knobs;
  EXPECT_FALSE(
      apply_fault_patch({{"error_rate", 0.5}, {"blackhole", true}}, knobs));
  EXPECT_EQ(knobs.error_rate, 0.5);
  EXPECT_TRUE(knobs.blackhole);
  EXPECT_TRUE(
      apply_fault_patch({{"error_rate", 0.1}, {"timeout_ms", -1}}, knobs));
  EXPECT_EQ(knobs.error_rate, 0.5);
  EXPECT_TRUE(apply_fault_patch({{"latency_ms", 120001}}, knobs));
  EXPECT_TRUE(apply_fault_patch({{"blackhole", 1}}, knobs));
  EXPECT_TRUE(apply_fault_patch(json::array(), knobs));
}

TEST(Faults, RatesOfZeroAndOneAreExact) {
  std::mt19937_64 rng{1};
  fault_knobs knobs;
  knobs.latency_ms = 10;
  knobs.latency_jitter_ms = 5;
  knobs.timeout_ms = 1000;
  for (int i = 0; i < 1000; ++i) {
    auto plan = draw_fault_plan(knobs, rng);
    EXPECT_FALSE(plan.fail_before || plan.fail_after);
    EXPECT_GE(plan.delay_ms, 10);
    EXPECT_LE(plan.delay_ms, 15);
  }
  knobs.error_rate = knobs.error_after_charge_rate = knobs.timeout_rate = 1.0;
  for (int i = 0; i < 1000; ++i) {
    auto plan = draw_fault_plan(knobs, rng);
    EXPECT_TRUE(plan.fail_before && plan.fail_after);
    EXPECT_GE(plan.delay_ms, 1010);
  }
}

TEST(Faults, ShutdownEndsWaits) {
  fault_injector faults{{}, 1};
  faults.patch({{"blackhole", true}});
  auto held = std::async(std::launch::async, [&] { faults.hold_blackhole(); });
  auto slept =
      std::async(std::launch::async, [&] { return faults.delay(100'000); });
  EXPECT_EQ(held.wait_for(20ms), std::future_status::timeout);
  faults.shutdown();
  EXPECT_EQ(held.wait_for(2s), std::future_status::ready);
  EXPECT_FALSE(slept.get());
}

sim_options_result parse(std::vector<const char*> args) {
  args.insert(args.begin(), "card-network-sim");
  return parse_sim_options(static_cast<int>(args.size()), args.data());
}

TEST(SimOptions, ParsesAndRejects) {
  auto ok = parse({"--port", "0", "--host=0.0.0.0", "--latency-ms", "5",
                   "--error-rate", "0.25", "--seed", "9", "--threads", "4"});
  ASSERT_TRUE(ok.error.empty()) << ok.error;
  EXPECT_EQ(ok.options.port, 0);
  EXPECT_EQ(ok.options.host, "0.0.0.0");
  EXPECT_EQ(ok.options.latency_ms, 5);
  EXPECT_EQ(ok.options.error_rate, 0.25);
  EXPECT_EQ(ok.options.seed, 9u);
  EXPECT_EQ(ok.options.threads, 4);
  EXPECT_FALSE(parse({}).error.empty());
  EXPECT_FALSE(parse({"--port", "70000"}).error.empty());
  EXPECT_FALSE(parse({"--port", "1", "--threads", "0"}).error.empty());
  EXPECT_FALSE(parse({"--port", "1", "--error-rate", "x"}).error.empty());
  EXPECT_FALSE(parse({"--port", "1", "--nope"}).error.empty());
  EXPECT_TRUE(parse({"--help"}).options.help);
}

} // namespace
