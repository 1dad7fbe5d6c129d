// Checks that a statement's figures add up (closing = opening + the
// period's nets, per currency), that it is flagged when the ledger
// disagrees, that the ledger pass computes opening and closing balances,
// and that the JSON, CSV and HTML forms carry the same figures.

#include "runtime/statement.hpp"
#include "runtime/statement_ledger.hpp"
#include "runtime/statement_render.hpp"

#include <gtest/gtest.h>

using namespace psp::statement;

namespace {

statement_line line(const std::string& txn, const std::string& type,
                    int64_t amount, int64_t fee, int64_t created,
                    std::string currency = "usd") {
  return {txn,         created,
          type,        type == "charge" ? "ch_" + txn : "re_" + txn,
          "pi_" + txn, currency,
          amount,      fee,
          amount - fee};
}

statement_input sample() {
  statement_input in;
  in.merchant_id = "acct_1";
  in.merchant_name = "Shop <&> \"Co\", Ltd";
  in.covered = {1'700'000'000, 1'700'003'600};
  in.generated_s = 1'700'010'000;
  in.opening = {{"usd", 10'000}};
  in.ledger_closing =
      pending_balances{{"usd", 10'000 + 1'912 - 500}, {"eur", 970}};
  in.lines = {line("txn_2", "refund", -500, 0, 1'700'000'100),
              line("txn_1", "charge", 2'000, 88, 1'700'000'050),
              line("txn_3", "charge", 1'000, 30, 1'700'000'200, "eur")};
  return in;
}

TEST(statement, closing_is_opening_plus_movements_per_currency) {
  auto s = build_statement(sample());
  ASSERT_EQ(s.lines.size(), 3u);
  EXPECT_EQ(s.lines[0].txn, "txn_1"); // sorted by time
  ASSERT_EQ(s.totals.size(), 2u);
  auto& eur = s.totals[0];
  auto& usd = s.totals[1];
  EXPECT_EQ(eur.currency, "eur");
  EXPECT_EQ(eur.opening_minor, 0);
  EXPECT_EQ(eur.closing_minor, 970);
  EXPECT_EQ(usd.opening_minor, 10'000);
  EXPECT_EQ(usd.charges_minor, 2'000);
  EXPECT_EQ(usd.refunds_minor, -500);
  EXPECT_EQ(usd.fees_minor, 88);
  EXPECT_EQ(usd.net_minor, 1'412);
  EXPECT_EQ(usd.closing_minor, usd.opening_minor + usd.net_minor);
  EXPECT_EQ(usd.transactions, 2u);
  EXPECT_TRUE(s.consistent());
}

TEST(statement, lines_of_one_second_keep_their_booking_order) {
  // A charge and its refund in the same second, the refund's id sorting
  // first: the running balance must never show the refund before the
  // charge it refunds.
  auto in = sample();
  in.lines = {line("txn_z", "charge", 1'999, 0, 1'700'000'100),
              line("txn_b", "refund", -1'000, 0, 1'700'000'100),
              line("txn_a", "refund", -998, 0, 1'700'000'100),
              line("txn_c", "charge", 2'000, 88, 1'700'000'050)};
  in.ledger_closing = pending_balances{{"usd", 10'000 + 1'912 + 1}};
  auto s = build_statement(in);
  ASSERT_EQ(s.lines.size(), 4u);
  EXPECT_EQ(s.lines[0].txn, "txn_c");
  EXPECT_EQ(s.lines[1].txn, "txn_z");
  EXPECT_EQ(s.lines[2].txn, "txn_b");
  EXPECT_EQ(s.lines[3].txn, "txn_a");
  EXPECT_TRUE(s.consistent());
  // The CSV's running balance goes up by each line's net, in that order.
  auto csv = render_csv(s);
  auto charge_at = csv.find("txn_z");
  auto refund_at = csv.find("txn_a");
  ASSERT_NE(charge_at, std::string::npos);
  ASSERT_NE(refund_at, std::string::npos);
  EXPECT_LT(charge_at, refund_at);
  EXPECT_NE(csv.find(",13911"), std::string::npos) << csv; // after txn_z
  EXPECT_EQ(csv.find(",10914\n"), std::string::npos) << csv;
}

TEST(statement, disagreement_with_the_ledger_is_flagged) {
  auto in = sample();
  (*in.ledger_closing)["usd"] += 1;
  auto s = build_statement(in);
  EXPECT_FALSE(s.consistent());
  EXPECT_NE(render_html(s).find("under review"), std::string::npos);
  // A currency the ledger never saw counts as 0 there.
  in = sample();
  in.ledger_closing = pending_balances{{"usd", 11'412}};
  EXPECT_FALSE(build_statement(in).consistent());
}

TEST(statement_ledger, opening_and_closing_come_from_pending_postings) {
  pending_ledger ledger{{100, 200}};
  auto charge = R"([["psp:card_network_receivable:usd",2000,0],
    ["merchant:acct_1:pending:usd",0,1912],["psp:fee_revenue:usd",0,88]])";
  auto refund = R"([["merchant:acct_1:pending:usd",500,0],
    ["psp:card_network_receivable:usd",0,500]])";
  auto hold = R"([["psp:card_network_holds:usd",700,0],
    ["merchant:acct_2:held:usd",0,700]])";
  // As entries are written now: the entry's own merchant's accounts
  // relative (actors/ledger_account_names.hpp).
  auto charge_relative = R"([["psp:card_network_receivable:usd",300,0],
    [":pending:usd",0,280],["psp:fee_revenue:usd",0,20]])";
  EXPECT_TRUE(ledger.add_entry(50, charge, "acct_1"));  // before: opening
  EXPECT_TRUE(ledger.add_entry(150, refund, "acct_1")); // inside
  EXPECT_TRUE(ledger.add_entry(150, hold, "acct_2")); // not a pending account
  EXPECT_TRUE(ledger.add_entry(200, charge, "acct_1")); // at the end: excluded
  EXPECT_TRUE(ledger.add_entry(160, charge_relative, "acct_1"));
  EXPECT_TRUE(ledger.add_entry(160, charge_relative, "acct_3"));
  EXPECT_FALSE(ledger.add_entry(150, "not json", "acct_1"));
  EXPECT_FALSE(ledger.add_entry(160, charge_relative, ""));
  auto t = ledger.of("acct_1");
  EXPECT_EQ(t.opening.at("usd"), 1912);
  EXPECT_EQ(t.closing.at("usd"), 1412 + 280);
  EXPECT_EQ(ledger.of("acct_3").closing.at("usd"), 280);
  EXPECT_TRUE(ledger.of("acct_2").closing.empty());
  EXPECT_EQ(parse_pending_account("merchant:acct_9:pending:jpy"),
            std::make_pair(std::string{"acct_9"}, std::string{"jpy"}));
  EXPECT_FALSE(parse_pending_account("merchant:acct_9:held:usd"));
  EXPECT_FALSE(parse_pending_account("psp:fee_revenue:usd"));
  EXPECT_FALSE(parse_pending_account("merchant::pending:usd"));
}

TEST(statement_render, json_round_trips) {
  auto s = build_statement(sample());
  auto doc = to_json(s);
  EXPECT_EQ(doc["object"], "statement");
  EXPECT_EQ(doc["totals"][1]["closing_minor"], 11'412);
  EXPECT_EQ(doc["lines"][0]["date"], "2023-11-14T22:14:10Z");
  auto back = from_json(doc);
  ASSERT_TRUE(back);
  EXPECT_EQ(to_json(*back), doc);
  doc["lines"][0].erase("net_minor");
  EXPECT_FALSE(from_json(doc));
}

TEST(statement_render, csv_has_running_balances_and_totals) {
  auto csv = render_csv(build_statement(sample()));
  EXPECT_EQ(csv.rfind("row,merchant,currency,date,created,id,type,source,"
                      "intent,amount_minor,fee_minor,net_minor,balance_minor\n",
                      0),
            0u);
  EXPECT_NE(csv.find("opening,acct_1,usd,2023-11-14T22:13:20Z,1700000000,,,,,"
                     ",,,10000\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("transaction,acct_1,usd,2023-11-14T22:14:10Z,1700000050,"
                     "txn_1,charge,ch_txn_1,pi_txn_1,2000,88,1912,11912\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find(",txn_2,refund,re_txn_2,pi_txn_2,-500,0,-500,11412\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("total_fees,acct_1,usd"), std::string::npos);
  EXPECT_NE(csv.find("closing,acct_1,usd,2023-11-14T23:13:20Z,1700003600,,,,,"
                     ",,1412,11412\n"),
            std::string::npos)
      << csv;
}

TEST(statement_render, html_escapes_and_formats_amounts) {
  auto html = render_html(build_statement(sample()));
  EXPECT_NE(html.find("Shop &lt;&amp;&gt; &quot;Co&quot;, Ltd"),
            std::string::npos);
  EXPECT_EQ(html.find("<&>"), std::string::npos);
  EXPECT_NE(html.find("114.12 USD"), std::string::npos) << html;
  EXPECT_NE(html.find("-5.00 USD"), std::string::npos);
  EXPECT_NE(html.find("@media print"), std::string::npos);
  EXPECT_TRUE(parse_format("csv"));
  EXPECT_FALSE(parse_format("pdf"));
}

} // namespace
