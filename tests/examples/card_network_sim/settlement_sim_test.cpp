// Goal: prove over real HTTP that GET /admin/settlement reports captures (at
// capture time, for the captured amount) and refunds in recording order
// inside a half-open window, that each settlement fault (drop, amount,
// duplicate) changes only that report, and that /admin/charge_counts keeps
// counting one succeeded capture per charge.

#include "sim_fixture.hpp"

#include <string>
#include <vector>

namespace {

using namespace psp::sim_test;

constexpr const char* visa = "4242424242424242";

class SettlementSimTest : public SimTest {
protected:
  // The book every test starts from: an auto-captured charge, a partly
  // captured authorisation, a refund, plus a decline, an authorisation left
  // open and a voided one that must not settle.
  struct book {
    std::string auto_id;
    std::string manual_id;
    std::string refund_id;
    int64_t created_s = 0;
  };

  book make_book() {
    book b;
    auto a = charge("k-auto", charge_body(visa, 2000, "pi_auto"));
    b.auto_id = a.body["id"].get<std::string>();
    b.created_s = a.body["created"].get<int64_t>();
    b.manual_id = authorise("k-man", 1000, "pi_man");
    charge("k-decl", charge_body("4000000000000002", 300, "pi_decl"));
    authorise("k-open", 400, "pi_open");
    auto voided = authorise("k-void", 500, "pi_void");
    EXPECT_EQ(void_charge("v-void", voided).status, 200);
    EXPECT_EQ(capture("c-man", b.manual_id, R"({"amount":600})").status, 200);
    auto r = refund("r-auto", b.auto_id, 300);
    b.refund_id = r.body["id"].get<std::string>();
    return b;
  }

  http_result set_settlement_faults(const json& faults) {
    return post(port(), "/admin/settlement_faults", faults.dump());
  }

  static std::vector<std::string> ids(const json& report) {
    std::vector<std::string> out;
    // at(): throws (a test failure) on an error body, where a const
    // operator[] would be undefined behaviour.
    for (const auto& line : report.at("lines")) {
      out.push_back(line.at("id").get<std::string>());
    }
    return out;
  }
};

TEST_F(SettlementSimTest, ReportsCapturesAndRefundsInRecordingOrder) {
  auto b = make_book();
  auto report = settlement();
  EXPECT_EQ(report["from"], nullptr);
  EXPECT_EQ(report["to"], nullptr);
  ASSERT_EQ(ids(report),
            (std::vector<std::string>{b.auto_id, b.manual_id, b.refund_id}))
      << report.dump();
  auto lines = report["lines"];
  EXPECT_EQ(lines[0]["type"], "capture");
  EXPECT_EQ(lines[0]["charge"], b.auto_id);
  EXPECT_EQ(lines[0]["reference"], "pi_auto");
  EXPECT_EQ(lines[0]["merchant"], "acct_test");
  EXPECT_EQ(lines[0]["amount"], 2000);
  EXPECT_EQ(lines[0]["currency"], "usd");
  EXPECT_EQ(lines[0]["created"], b.created_s);
  EXPECT_EQ(lines[1]["type"], "capture");
  EXPECT_EQ(lines[1]["reference"], "pi_man");
  EXPECT_EQ(lines[1]["amount"], 600); // the captured, not the authorised
  EXPECT_GE(lines[1]["created"].get<int64_t>(), b.created_s);
  EXPECT_EQ(lines[2]["type"], "refund");
  EXPECT_EQ(lines[2]["charge"], b.auto_id);
  EXPECT_EQ(lines[2]["reference"], "pi_auto");
  EXPECT_EQ(lines[2]["amount"], 300);
  EXPECT_EQ(counts(), json({{"pi_auto", 1}, {"pi_man", 1}}));
}

TEST_F(SettlementSimTest, WindowIsHalfOpenOnCreated) {
  auto b = make_book();
  auto last = settlement()["lines"][2]["created"].get<int64_t>();
  auto all = settlement("?from=" + std::to_string(b.created_s) +
                        "&to=" + std::to_string(last + 1));
  EXPECT_EQ(all["lines"].size(), 3u);
  EXPECT_EQ(all["from"], b.created_s);
  EXPECT_EQ(all["to"], last + 1);
  auto none = settlement("?to=" + std::to_string(b.created_s));
  EXPECT_EQ(none["lines"].size(), 0u);
  EXPECT_EQ(none["from"], nullptr);
  auto after = settlement("?from=" + std::to_string(last + 1));
  EXPECT_EQ(after["lines"].size(), 0u);
  EXPECT_EQ(get(port(), "/admin/settlement?to=soon").status, 400);
}

TEST_F(SettlementSimTest, DropFaultHidesALineOnly) {
  auto b = make_book();
  auto set = set_settlement_faults({{"drop", {b.manual_id}}});
  ASSERT_EQ(set.status, 200) << set.raw;
  EXPECT_EQ(set.body["drop"], json({b.manual_id}));
  EXPECT_EQ(ids(settlement()),
            (std::vector<std::string>{b.auto_id, b.refund_id}));
  EXPECT_EQ(counts(), json({{"pi_auto", 1}, {"pi_man", 1}}));
  EXPECT_EQ(charge_rows()[1]["amount_captured"], 600);
}

TEST_F(SettlementSimTest, AmountFaultReportsAChangedAmount) {
  auto b = make_book();
  ASSERT_EQ(set_settlement_faults({{"amount", {{b.refund_id, 299}}}}).status,
            200);
  auto lines = settlement()["lines"];
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2]["id"], b.refund_id);
  EXPECT_EQ(lines[2]["amount"], 299);
  EXPECT_EQ(lines[0]["amount"], 2000);
  // The book still holds the real refund: 1700 is refundable, not 1701.
  EXPECT_EQ(refund("r-more", b.auto_id, 1701).status, 400);
  EXPECT_EQ(refund("r-rest", b.auto_id, 1700).status, 200);
}

TEST_F(SettlementSimTest, DuplicateFaultReportsALineTwice) {
  auto b = make_book();
  ASSERT_EQ(set_settlement_faults({{"duplicate", {b.auto_id}}}).status, 200);
  auto report = settlement();
  EXPECT_EQ(ids(report), (std::vector<std::string>{b.auto_id, b.auto_id,
                                                   b.manual_id, b.refund_id}));
  EXPECT_EQ(report["lines"][0], report["lines"][1]);
  EXPECT_EQ(counts(), json({{"pi_auto", 1}, {"pi_man", 1}}));
}

TEST_F(SettlementSimTest, FaultsAreReplacedReadClearedAndReset) {
  auto b = make_book();
  json faults{{"drop", {b.auto_id}},
              {"amount", {{b.manual_id, 1}}},
              {"duplicate", {b.refund_id}}};
  ASSERT_EQ(set_settlement_faults(faults).status, 200);
  EXPECT_EQ(get(port(), "/admin/settlement_faults").body, faults);
  // A POST replaces the whole set.
  ASSERT_EQ(set_settlement_faults({{"duplicate", {b.auto_id}}}).status, 200);
  EXPECT_EQ(get(port(), "/admin/settlement_faults").body,
            json({{"drop", json::array()},
                  {"amount", json::object()},
                  {"duplicate", {b.auto_id}}}));
  auto cleared = del(port(), "/admin/settlement_faults");
  EXPECT_EQ(cleared.status, 200);
  EXPECT_EQ(cleared.body, json({{"drop", json::array()},
                                {"amount", json::object()},
                                {"duplicate", json::array()}}));
  EXPECT_EQ(settlement()["lines"].size(), 3u);
  ASSERT_EQ(set_settlement_faults({{"drop", {"anything"}}}).status, 200);
  ASSERT_EQ(post(port(), "/admin/reset", "").status, 200);
  EXPECT_EQ(get(port(), "/admin/settlement_faults").body["drop"],
            json::array());
}

TEST_F(SettlementSimTest, BadFaultSetsAreRejectedAndChangeNothing) {
  auto b = make_book();
  json good{{"drop", {b.auto_id}}};
  ASSERT_EQ(set_settlement_faults(good).status, 200);
  auto before = get(port(), "/admin/settlement_faults").body;
  for (const char* bad :
       {R"({"typo":[]})", R"({"drop":"ch_x"})", R"({"drop":[1]})",
        R"({"amount":{"ch_x":-1}})", R"({"amount":{"ch_x":"1"}})",
        R"({"amount":["ch_x"]})", R"({"duplicate":[null]})", R"([])",
        R"({"drop":["ch_x"],"duplicate":{}})", "not json"}) {
    auto res = post(port(), "/admin/settlement_faults", bad);
    EXPECT_EQ(res.status, 400) << bad;
    EXPECT_EQ(res.body["error"]["code"], "invalid_request") << bad;
    EXPECT_EQ(get(port(), "/admin/settlement_faults").body, before) << bad;
  }
  EXPECT_EQ(ids(settlement()),
            (std::vector<std::string>{b.manual_id, b.refund_id}));
}

TEST_F(SettlementSimTest, ChargeCountsCountEachChargeOnce) {
  charge("k-1", charge_body(visa, 100, "pi_x"));
  EXPECT_EQ(counts(), json({{"pi_x", 1}}));
  auto held = authorise("k-2", 100, "pi_y");
  EXPECT_EQ(counts(), json({{"pi_x", 1}}));
  capture("c-1", held);
  capture("c-1", held);
  capture("c-2", held);
  EXPECT_EQ(counts(), json({{"pi_x", 1}, {"pi_y", 1}}));
  // A second charge for the same reference is a second capture.
  charge("k-3", charge_body(visa, 100, "pi_x"));
  auto voided = authorise("k-4", 100, "pi_x");
  void_charge("v-1", voided);
  EXPECT_EQ(counts(), json({{"pi_x", 2}, {"pi_y", 1}}));
  // Settlement faults never touch the counts.
  ASSERT_EQ(set_settlement_faults({{"drop", {held}}}).status, 200);
  EXPECT_EQ(counts(), json({{"pi_x", 2}, {"pi_y", 1}}));
}

} // namespace
