// Goal: check the charge state machine (authorise, capture once, partial
// capture, void, refundable amount) and how the ledger applies it: capture
// counts, the settlement journal and refunds bounded by the captured amount.

#include "charge_lifecycle.hpp"
#include "ledger_book.hpp"

#include <gtest/gtest.h>

namespace {

using namespace psp::sim;

charge_record authorisation(const std::string& id, int64_t amount_minor,
                            bool auto_capture = false) {
  charge_record c;
  c.id = id;
  c.reference = "pi_" + id;
  c.merchant = "acct_1";
  c.currency = "usd";
  c.amount_minor = amount_minor;
  c.created_s = 100;
  c.auto_capture = auto_capture;
  return c;
}

TEST(ChargeLifecycle, OpeningSetsTheStatus) {
  auto auto_captured = authorisation("a", 2000, true);
  open_charge(auto_captured);
  EXPECT_EQ(auto_captured.status, charge_status::succeeded);
  EXPECT_EQ(auto_captured.amount_captured_minor, 2000);
  EXPECT_EQ(auto_captured.captured_s, 100);
  auto held = authorisation("b", 2000);
  open_charge(held);
  EXPECT_EQ(held.status, charge_status::authorized);
  EXPECT_EQ(held.amount_captured_minor, 0);
  EXPECT_FALSE(held.captured());
  auto declined = authorisation("c", 2000, true);
  declined.decline_code = "card_declined";
  open_charge(declined);
  EXPECT_EQ(declined.status, charge_status::declined);
  EXPECT_EQ(declined.amount_captured_minor, 0);
  EXPECT_EQ(status_name(charge_status::authorized), "authorized");
  EXPECT_EQ(status_name(charge_status::voided), "voided");
}

TEST(ChargeLifecycle, CaptureHappensOnceAndMayBePartial) {
  auto c = authorisation("a", 2000);
  open_charge(c);
  EXPECT_EQ(capture_charge(c, 2001, 150), charge_change::amount_too_large);
  EXPECT_EQ(c.status, charge_status::authorized);
  EXPECT_EQ(capture_charge(c, 1500, 150), charge_change::applied);
  EXPECT_EQ(c.status, charge_status::succeeded);
  EXPECT_EQ(c.amount_captured_minor, 1500);
  EXPECT_EQ(c.captured_s, 150);
  EXPECT_EQ(refundable_minor(c), 1500);
  // The released 500 cannot be captured later.
  EXPECT_EQ(capture_charge(c, 500, 160), charge_change::already_captured);
  EXPECT_EQ(void_charge(c), charge_change::already_captured);
  EXPECT_EQ(c.amount_captured_minor, 1500);
  auto full = authorisation("b", 700);
  open_charge(full);
  EXPECT_EQ(capture_charge(full, std::nullopt, 170), charge_change::applied);
  EXPECT_EQ(full.amount_captured_minor, 700);
}

TEST(ChargeLifecycle, VoidReleasesAndBlocksCapture) {
  auto c = authorisation("a", 2000);
  open_charge(c);
  EXPECT_EQ(void_charge(c), charge_change::applied);
  EXPECT_EQ(c.status, charge_status::voided);
  EXPECT_EQ(void_charge(c), charge_change::already_voided);
  EXPECT_EQ(capture_charge(c, std::nullopt, 1), charge_change::already_voided);
  EXPECT_EQ(refundable_minor(c), 0);
  auto declined = authorisation("d", 2000);
  declined.decline_code = "insufficient_funds";
  open_charge(declined);
  EXPECT_EQ(capture_charge(declined, std::nullopt, 1),
            charge_change::charge_declined);
  EXPECT_EQ(void_charge(declined), charge_change::charge_declined);
  EXPECT_EQ(refundable_minor(declined), 0);
}

TEST(LedgerLifecycle, AuthorisationCountsOnlyOnceCaptured) {
  ledger_book ledger{10};
  auto recorded = ledger.record_charge(authorisation("ch_a", 2000));
  ASSERT_TRUE(recorded);
  EXPECT_EQ(recorded->status, charge_status::authorized);
  EXPECT_TRUE(ledger.succeeded_counts().empty());
  EXPECT_TRUE(ledger.settlement().empty());
  auto first = ledger.capture("ch_a", 1200, 300);
  ASSERT_TRUE(first.found);
  EXPECT_EQ(first.change, charge_change::applied);
  EXPECT_EQ(first.charge.amount_captured_minor, 1200);
  auto second = ledger.capture("ch_a", std::nullopt, 301);
  EXPECT_EQ(second.change, charge_change::already_captured);
  EXPECT_EQ(ledger.succeeded_counts()["pi_ch_a"], 1u);
  auto journal = ledger.settlement();
  ASSERT_EQ(journal.size(), 1u);
  EXPECT_EQ(journal[0].kind, settlement_kind::capture);
  EXPECT_EQ(journal[0].id, "ch_a");
  EXPECT_EQ(journal[0].amount_minor, 1200);
  EXPECT_EQ(journal[0].created_s, 300);
  EXPECT_EQ(journal[0].merchant, "acct_1");
  EXPECT_FALSE(ledger.capture("ch_x", std::nullopt, 1).found);
  EXPECT_FALSE(ledger.void_authorization("ch_x").found);
}

TEST(LedgerLifecycle, AutoCaptureCountsAtChargeTime) {
  ledger_book ledger{10};
  ASSERT_TRUE(ledger.record_charge(authorisation("ch_a", 2000, true)));
  EXPECT_EQ(ledger.succeeded_counts()["pi_ch_a"], 1u);
  EXPECT_EQ(ledger.capture("ch_a", std::nullopt, 5).change,
            charge_change::already_captured);
  EXPECT_EQ(ledger.void_authorization("ch_a").change,
            charge_change::already_captured);
  EXPECT_EQ(ledger.succeeded_counts()["pi_ch_a"], 1u);
  ASSERT_EQ(ledger.settlement().size(), 1u);
  EXPECT_EQ(ledger.settlement()[0].created_s, 100);
}

TEST(LedgerLifecycle, VoidedAndUncapturedChargesRefundNothing) {
  ledger_book ledger{10};
  ASSERT_TRUE(ledger.record_charge(authorisation("ch_held", 2000)));
  ASSERT_TRUE(ledger.record_charge(authorisation("ch_void", 2000)));
  EXPECT_EQ(ledger.void_authorization("ch_void").change,
            charge_change::applied);
  refund_record r;
  r.id = "re_1";
  r.amount_minor = 1;
  for (const char* id : {"ch_held", "ch_void"}) {
    r.charge_id = id;
    EXPECT_EQ(ledger.record_refund(r), refund_outcome::amount_too_large) << id;
  }
  EXPECT_TRUE(ledger.succeeded_counts().empty());
  EXPECT_TRUE(ledger.settlement().empty());
  EXPECT_EQ(ledger.charges()[1].status, charge_status::voided);
}

TEST(LedgerLifecycle, RefundsAreBoundedByThePartialCapture) {
  ledger_book ledger{10};
  ASSERT_TRUE(ledger.record_charge(authorisation("ch_a", 2000)));
  ASSERT_EQ(ledger.capture("ch_a", 1500, 200).change, charge_change::applied);
  refund_record r;
  r.id = "re_1";
  r.charge_id = "ch_a";
  r.amount_minor = 1501;
  r.created_s = 210;
  EXPECT_EQ(ledger.record_refund(r), refund_outcome::amount_too_large);
  r.amount_minor = 1000;
  EXPECT_EQ(ledger.record_refund(r), refund_outcome::recorded);
  r.id = "re_2";
  r.amount_minor = 501;
  EXPECT_EQ(ledger.record_refund(r), refund_outcome::amount_too_large);
  r.amount_minor = 500;
  EXPECT_EQ(ledger.record_refund(r), refund_outcome::recorded);
  auto journal = ledger.settlement();
  ASSERT_EQ(journal.size(), 3u);
  EXPECT_EQ(journal[1].kind, settlement_kind::refund);
  EXPECT_EQ(journal[1].id, "re_1");
  EXPECT_EQ(journal[1].charge_id, "ch_a");
  EXPECT_EQ(journal[1].reference, "pi_ch_a");
  EXPECT_EQ(journal[1].merchant, "acct_1");
  EXPECT_EQ(journal[2].amount_minor, 500);
  ledger.clear();
  EXPECT_TRUE(ledger.settlement().empty());
}

} // namespace
