// Checks that reconciliation matches the PSP's balance transactions with the
// network's settlement lines by line id and reports each kind of difference
// exactly once with its ids, including at the edges of the period.

#include "runtime/recon_json.hpp"
#include "runtime/reconciliation.hpp"

#include <gtest/gtest.h>

using namespace psp::recon;

namespace {

const period hour{3600, 7200};

psp_entry charge(const std::string& txn, const std::string& ch, int64_t amount,
                 int64_t created, std::string cur = "usd") {
  return {txn, "charge", ch, "pi_" + txn, "acct_1", amount, cur, created};
}

psp_entry refund(const std::string& txn, const std::string& re, int64_t amount,
                 int64_t created) {
  return {txn, "refund", re, "pi_" + txn, "acct_1", -amount, "usd", created};
}

network_line capture(const std::string& ch, int64_t amount, int64_t created,
                     std::string cur = "usd") {
  return {ch, "capture", ch, "pi_ref_" + ch, "acct_1", amount, cur, created};
}

network_line net_refund(const std::string& re, int64_t amount,
                        int64_t created) {
  return {re,       "refund", "ch_x", "pi_ref_" + re,
          "acct_1", amount,   "usd",  created};
}

TEST(reconciliation, matching_sides_are_clean) {
  auto r =
      reconcile(hour, 300,
                {charge("txn_1", "ch_1", 2000, 4000),
                 refund("txn_2", "re_n1", 500, 4100)},
                {capture("ch_1", 2000, 3999), net_refund("re_n1", 500, 4100)});
  EXPECT_TRUE(r.clean());
  EXPECT_EQ(r.counts.matched, 2u);
  EXPECT_EQ(r.counts.psp_entries, 2u);
  EXPECT_EQ(r.counts.network_lines, 2u);
  EXPECT_EQ(r.counts.straddling, 0u);
}

TEST(reconciliation, empty_period_is_clean) {
  auto r = reconcile(hour, 300, {}, {});
  EXPECT_TRUE(r.clean());
  EXPECT_EQ(r.counts.matched, 0u);
}

TEST(reconciliation, each_kind_is_reported_with_its_ids) {
  auto r =
      reconcile(hour, 300,
                {charge("txn_a", "ch_a", 1000, 4000), // missing at network
                 charge("txn_b", "ch_b", 1500, 4000), // amount differs
                 charge("txn_c", "ch_c", 700, 4000, "eur"), // currency differs
                 charge("txn_d", "ch_d", 900, 4000)},       // line duplicated
                {capture("ch_b", 1499, 4000), capture("ch_c", 700, 4000, "usd"),
                 capture("ch_d", 900, 4000), capture("ch_d", 900, 4000),
                 capture("ch_z", 333, 4000)}); // missing at PSP
  ASSERT_EQ(r.differences.size(), 5u);
  auto find = [&](difference_kind k) -> const difference* {
    for (auto& d : r.differences) {
      if (d.kind == k) {
        return &d;
      }
    }
    return nullptr;
  };
  auto* missing_net = find(difference_kind::missing_at_network);
  ASSERT_NE(missing_net, nullptr);
  EXPECT_EQ(missing_net->psp_txn, "txn_a");
  EXPECT_EQ(missing_net->network_line, "");
  EXPECT_EQ(missing_net->intent, "pi_txn_a");
  auto* amount = find(difference_kind::amount_mismatch);
  ASSERT_NE(amount, nullptr);
  EXPECT_EQ(amount->network_line, "ch_b");
  EXPECT_EQ(amount->psp_txn, "txn_b");
  EXPECT_EQ(*amount->psp_amount_minor, 1500);
  EXPECT_EQ(*amount->network_amount_minor, 1499);
  auto* currency = find(difference_kind::currency_mismatch);
  ASSERT_NE(currency, nullptr);
  EXPECT_EQ(currency->psp_currency, "eur");
  EXPECT_EQ(currency->network_currency, "usd");
  auto* dup = find(difference_kind::duplicate);
  ASSERT_NE(dup, nullptr);
  EXPECT_EQ(dup->side, "network");
  EXPECT_EQ(dup->copies, 2u);
  EXPECT_EQ(dup->network_line, "ch_d");
  EXPECT_EQ(dup->psp_txn, "txn_d");
  auto* missing_psp = find(difference_kind::missing_at_psp);
  ASSERT_NE(missing_psp, nullptr);
  EXPECT_EQ(missing_psp->network_line, "ch_z");
  EXPECT_EQ(missing_psp->psp_txn, "");
  EXPECT_EQ(missing_psp->intent, "pi_ref_ch_z");
  EXPECT_EQ(r.counts.matched, 1u); // ch_d: the duplicate agrees otherwise
  EXPECT_EQ(r.counts.missing_at_psp + r.counts.missing_at_network +
                r.counts.amount_mismatch + r.counts.currency_mismatch +
                r.counts.duplicate,
            5u);
}

TEST(reconciliation, refunds_compare_as_positive_network_amounts) {
  auto ok = reconcile(hour, 0, {refund("txn_r", "re_n", 250, 4000)},
                      {net_refund("re_n", 250, 4000)});
  EXPECT_TRUE(ok.clean());
  auto off = reconcile(hour, 0, {refund("txn_r", "re_n", 250, 4000)},
                       {net_refund("re_n", 260, 4000)});
  ASSERT_EQ(off.differences.size(), 1u);
  EXPECT_EQ(off.differences[0].kind, difference_kind::amount_mismatch);
  EXPECT_EQ(*off.differences[0].psp_amount_minor, 250);
}

TEST(reconciliation, duplicate_at_psp_is_reported) {
  auto r = reconcile(
      hour, 0,
      {charge("txn_1", "ch_1", 100, 4000), charge("txn_2", "ch_1", 100, 4001)},
      {capture("ch_1", 100, 4000)});
  ASSERT_EQ(r.differences.size(), 1u);
  EXPECT_EQ(r.differences[0].kind, difference_kind::duplicate);
  EXPECT_EQ(r.differences[0].side, "psp");
  EXPECT_EQ(r.differences[0].copies, 2u);
}

TEST(reconciliation, a_pair_straddling_the_end_matches_in_the_line_period) {
  // The network recorded it a second before the end, the PSP committed it
  // a second after.
  std::vector<psp_entry> psp{charge("txn_1", "ch_1", 100, 7201)};
  std::vector<network_line> net{capture("ch_1", 100, 7199)};
  auto first = reconcile(hour, 300, psp, net);
  EXPECT_TRUE(first.clean());
  EXPECT_EQ(first.counts.matched, 1u);
  EXPECT_EQ(first.counts.straddling, 1u);
  // The next period sees the PSP entry but judges the pair in the line's
  // period: nothing to report, nothing counted twice.
  auto next = reconcile({7200, 10800}, 300, psp, net);
  EXPECT_TRUE(next.clean());
  EXPECT_EQ(next.counts.matched, 0u);
  EXPECT_EQ(next.counts.psp_entries, 0u);
}

TEST(reconciliation, items_outside_the_period_are_not_judged) {
  auto r = reconcile(hour, 300, {charge("txn_1", "ch_1", 100, 3500)},
                     {capture("ch_2", 100, 7300)});
  EXPECT_TRUE(r.clean());
  EXPECT_EQ(r.counts.psp_entries, 0u);
  EXPECT_EQ(r.counts.network_lines, 0u);
}

TEST(reconciliation, unknown_line_ids_are_each_missing_at_network) {
  auto r = reconcile(
      hour, 0, {charge("txn_1", "", 100, 4000), charge("txn_2", "", 100, 4000)},
      {});
  ASSERT_EQ(r.differences.size(), 2u);
  EXPECT_EQ(r.counts.missing_at_network, 2u);
}

TEST(reconciliation, periods_are_computed_on_epoch_boundaries) {
  EXPECT_FALSE(latest_due_period(100, 3600, 300));
  auto p = latest_due_period(7200 + 299, 3600, 300);
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (period{0, 3600}));
  p = latest_due_period(7200 + 300, 3600, 300);
  EXPECT_EQ(*p, (period{3600, 7200}));
  auto due = due_periods(4 * 3600 + 300, 3600, 300, 0, 2);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0], (period{7200, 10800}));
  EXPECT_EQ(due[1], (period{10800, 14400}));
  // Never before `since`.
  due = due_periods(4 * 3600 + 300, 3600, 300, 10800, 24);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0], (period{10800, 14400}));
  EXPECT_TRUE(valid_period({0, 1}));
  EXPECT_FALSE(valid_period({5, 5}));
  EXPECT_FALSE(valid_period({-1, 5}));
  EXPECT_FALSE(valid_period({0, period_length_s_max + 1}));
  EXPECT_EQ(widened(hour, 300), (period{3300, 7500}));
  EXPECT_EQ(widened({100, 200}, 300).from_s, 0);
}

TEST(recon_json, settlement_report_parses_and_rejects_incomplete_lines) {
  auto ok = parse_settlement(
      R"({"from":1,"to":2,"lines":[{"type":"capture","id":"ch_1","charge":"ch_1",
    "reference":"pi_1","merchant":null,"amount":2000,"currency":"usd",
    "created":5}]})");
  auto* lines = std::get_if<std::vector<network_line>>(&ok);
  ASSERT_NE(lines, nullptr);
  ASSERT_EQ(lines->size(), 1u);
  EXPECT_EQ((*lines)[0].id, "ch_1");
  EXPECT_EQ((*lines)[0].merchant, "");
  EXPECT_EQ((*lines)[0].amount_minor, 2000);
  for (
      auto* bad :
      {"[]", "{\"lines\":{}}", "not json",
       R"({"lines":[{"type":"capture","id":"ch_1","currency":"usd","created":1}]})",
       R"({"lines":[{"type":"payout","id":"x","amount":1,"currency":"usd","created":1}]})"}) {
    EXPECT_TRUE(std::holds_alternative<std::string>(parse_settlement(bad)))
        << bad;
  }
}

TEST(recon_json, a_stored_run_reads_back_as_its_report) {
  recon_run run;
  run.id = "recon_1";
  run.trigger = "cli";
  run.node = "psp-admin";
  run.started_s = 10;
  run.finished_s = 11;
  run.event = "evt_1";
  run.result = reconcile(hour, 300, {charge("txn_1", "ch_1", 100, 4000)}, {});
  auto report = to_json(run);
  EXPECT_EQ(report["status"], "differences");
  EXPECT_EQ(report["counts"]["missing_at_network"], 1);
  EXPECT_EQ(report["differences"][0]["kind"], "missing_at_network");
  EXPECT_EQ(report["differences"][0]["psp_txn"], "txn_1");
  EXPECT_TRUE(report["differences"][0]["network_line"].is_null());
  std::map<std::string, std::string> fields;
  for (auto& [k, v] : to_fields(run)) {
    fields[k] = v;
  }
  EXPECT_EQ(report_from_fields(fields), report);
  fields.erase("counts");
  EXPECT_TRUE(report_from_fields(fields).is_discarded());
}

} // namespace
