// Goal: check the settlement report's lines and the test-only settlement
// faults (drop, changed amount, duplicate): their validation, that a bad set
// changes nothing, and that they alter only the report.

#include "admin_views.hpp"
#include "ledger_book.hpp"
#include "settlement_faults.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace psp::sim;
using json = nlohmann::json;

settlement_entry line(settlement_kind kind, const std::string& id,
                      int64_t amount_minor, int64_t created_s) {
  settlement_entry e;
  e.kind = kind;
  e.id = id;
  e.charge_id = kind == settlement_kind::capture ? id : "ch_a";
  e.reference = "pi_a";
  e.merchant = "acct_1";
  e.currency = "usd";
  e.amount_minor = amount_minor;
  e.created_s = created_s;
  return e;
}

std::vector<settlement_entry> journal() {
  return {line(settlement_kind::capture, "ch_a", 2000, 100),
          line(settlement_kind::capture, "ch_b", 600, 101),
          line(settlement_kind::refund, "re_1", 300, 102)};
}

std::vector<std::string> ids(const json& view) {
  std::vector<std::string> out;
  for (const auto& l : view["lines"]) {
    out.push_back(l["id"].get<std::string>());
  }
  return out;
}

TEST(SettlementView, LinesCarryEveryField) {
  auto view = settlement_view(journal(), {}, {});
  ASSERT_EQ(view["lines"].size(), 3u);
  EXPECT_EQ(view["lines"][0], json({{"type", "capture"},
                                    {"id", "ch_a"},
                                    {"charge", "ch_a"},
                                    {"reference", "pi_a"},
                                    {"merchant", "acct_1"},
                                    {"amount", 2000},
                                    {"currency", "usd"},
                                    {"created", 100}}));
  EXPECT_EQ(view["lines"][2]["type"], "refund");
  EXPECT_EQ(view["lines"][2]["charge"], "ch_a");
  auto no_merchant = journal();
  no_merchant[0].merchant.clear();
  EXPECT_EQ(settlement_view(no_merchant, {}, {})["lines"][0]["merchant"],
            nullptr);
}

TEST(SettlementView, WindowIsHalfOpen) {
  auto w = parse_settlement_window("101", "102");
  ASSERT_TRUE(w);
  EXPECT_EQ(ids(settlement_view(journal(), *w, {})),
            std::vector<std::string>{"ch_b"});
  auto from_only = parse_settlement_window("101", "");
  EXPECT_EQ(ids(settlement_view(journal(), *from_only, {})),
            (std::vector<std::string>{"ch_b", "re_1"}));
  auto to_only = parse_settlement_window("", "101");
  auto view = settlement_view(journal(), *to_only, {});
  EXPECT_EQ(ids(view), std::vector<std::string>{"ch_a"});
  EXPECT_EQ(view["from"], nullptr);
  EXPECT_EQ(view["to"], 101);
}

TEST(SettlementView, EachFaultKindChangesOnlyItsLine) {
  settlement_fault_set faults;
  faults.drop = {"ch_a"};
  EXPECT_EQ(ids(settlement_view(journal(), {}, faults)),
            (std::vector<std::string>{"ch_b", "re_1"}));
  faults = {};
  faults.amount_minor = {{"ch_b", 999}};
  auto changed = settlement_view(journal(), {}, faults);
  EXPECT_EQ(changed["lines"][1]["amount"], 999);
  EXPECT_EQ(changed["lines"][0]["amount"], 2000);
  faults = {};
  faults.duplicate = {"re_1"};
  auto doubled = settlement_view(journal(), {}, faults);
  EXPECT_EQ(ids(doubled),
            (std::vector<std::string>{"ch_a", "ch_b", "re_1", "re_1"}));
  EXPECT_EQ(doubled["lines"][2], doubled["lines"][3]);
}

TEST(SettlementView, DropWinsAndAmountAppliesToEveryCopy) {
  settlement_fault_set faults;
  faults.drop = {"ch_a"};
  faults.duplicate = {"ch_a", "ch_b"};
  faults.amount_minor = {{"ch_a", 1}, {"ch_b", 7}};
  auto view = settlement_view(journal(), {}, faults);
  EXPECT_EQ(ids(view), (std::vector<std::string>{"ch_b", "ch_b", "re_1"}));
  EXPECT_EQ(view["lines"][0]["amount"], 7);
  EXPECT_EQ(view["lines"][1]["amount"], 7);
}

TEST(SettlementFaults, ParsesAndRoundTrips) {
  settlement_fault_set faults;
  auto doc = json::parse(
      R"({"drop":["ch_a","ch_a"],"amount":{"re_1":0},"duplicate":["ch_b"]})");
  ASSERT_FALSE(parse_settlement_faults(doc, faults));
  EXPECT_EQ(faults.drop, std::set<std::string>{"ch_a"});
  EXPECT_EQ(faults.amount_minor.at("re_1"), 0);
  EXPECT_EQ(faults.duplicate, std::set<std::string>{"ch_b"});
  EXPECT_EQ(
      to_json(faults),
      json::parse(
          R"({"drop":["ch_a"],"amount":{"re_1":0},"duplicate":["ch_b"]})"));
  settlement_fault_set again;
  ASSERT_FALSE(parse_settlement_faults(to_json(faults), again));
  EXPECT_EQ(again, faults);
  settlement_fault_set none;
  ASSERT_FALSE(parse_settlement_faults(json::object(), none));
  EXPECT_EQ(to_json(none),
            json::parse(R"({"drop":[],"amount":{},"duplicate":[]})"));
}

TEST(SettlementFaults, RejectionsChangeNothing) {
  settlement_fault_set faults;
  faults.drop = {"keep"};
  const auto before = faults;
  for (const char* bad : {
           R"([])",
           R"({"typo":[]})",
           R"({"drop":"ch_a"})",
           R"({"drop":[1]})",
           R"({"drop":[""]})",
           R"({"duplicate":{"ch_a":1}})",
           R"({"amount":["ch_a"]})",
           R"({"amount":{"ch_a":-1}})",
           R"({"amount":{"ch_a":"5"}})",
           R"({"amount":{"ch_a":1.5}})",
           R"({"amount":{"ch_a":100000000}})",
           R"({"amount":{"ch_a":18446744073709551615}})",
           R"({"drop":["ch_ok"],"duplicate":[null]})",
       }) {
    EXPECT_TRUE(parse_settlement_faults(json::parse(bad), faults)) << bad;
    EXPECT_EQ(faults, before) << bad;
  }
  json too_many = json::array();
  for (size_t i = 0; i <= settlement_fault_ids_max; ++i) {
    too_many.push_back("ch_" + std::to_string(i));
  }
  EXPECT_TRUE(parse_settlement_faults({{"drop", too_many}}, faults));
  EXPECT_EQ(faults, before);
}

TEST(SettlementFaults, TableReplacesAndClears) {
  settlement_fault_table table;
  EXPECT_EQ(table.get(), settlement_fault_set{});
  settlement_fault_set faults;
  faults.duplicate = {"re_1"};
  table.replace(faults);
  EXPECT_EQ(table.get(), faults);
  settlement_fault_set other;
  other.drop = {"ch_a"};
  table.replace(other);
  EXPECT_EQ(table.get(), other);
  table.clear();
  EXPECT_EQ(table.get(), settlement_fault_set{});
}

TEST(SettlementFaults, NeverTouchTheBook) {
  ledger_book ledger{10};
  charge_record c;
  c.id = "ch_a";
  c.reference = "pi_a";
  c.currency = "usd";
  c.amount_minor = 2000;
  ASSERT_TRUE(ledger.record_charge(c));
  settlement_fault_set faults;
  faults.drop = {"ch_a"};
  EXPECT_TRUE(
      settlement_view(ledger.settlement(), {}, faults)["lines"].empty());
  EXPECT_EQ(ledger.settlement().size(), 1u);
  EXPECT_EQ(ledger.succeeded_counts()["pi_a"], 1u);
}

} // namespace
