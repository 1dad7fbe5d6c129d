// Goal: reconciliation of a real node's payments against the simulator's
// settlement report is clean, and each settlement fault (a dropped, changed
// or duplicated line; a charge the PSP never made) is reported exactly once
// with its kind and ids, through the admin API and `psp-admin reconcile`;
// a run with differences leaves an operator event no merchant sees.

#include "tests/support/payment_flows.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace psp::test {
namespace {

std::string str(const json& v) {
  return v.is_string() ? v.get<std::string>() : std::string{};
}

/// The payments every case starts from, with the ids the network knows.
struct paid_set {
  std::string pi_a, pi_b, pi_c, pi_manual;
  std::string ch_a, ch_b, ch_c, ch_manual;
  std::string refund_network_id; ///< the simulator's id of the refund of a
  std::string refund_txn;        ///< its balance transaction
};

class reconcile : public ::testing::Test {
protected:
  void SetUp() override {
    from_s_ = now_s() - 2;
    auto a = create_intent(stack_, 2000);
    auto b = create_intent(stack_, 1500);
    auto c = create_intent(stack_, 990);
    auto held = create_intent(stack_, 3000, "usd", true);
    ASSERT_EQ(held.value("status", ""), "requires_capture") << held.dump();
    auto captured = capture_intent(stack_, str(held["id"]), 2500);
    ASSERT_EQ(captured.value("status", ""), "succeeded") << captured.dump();
    for (auto* pi : {&a, &b, &c}) {
      ASSERT_EQ(pi->value("status", ""), "succeeded") << pi->dump();
    }
    auto r = refund_intent(stack_, str(a["id"]), 500);
    ASSERT_EQ(r.value("status", ""), "succeeded") << r.dump();
    p_ = {str(a["id"]), str(b["id"]), str(c["id"]), str(held["id"]),
          str(a["latest_charge"]), str(b["latest_charge"]),
          str(c["latest_charge"]), str(captured["latest_charge"]), "", ""};
    auto refund = stack_.redis_hash("re:" + str(r["id"]));
    p_.refund_network_id = refund["network_refund"];
    p_.refund_txn = txn_with_source(stack_, str(r["id"]));
    ASSERT_FALSE(p_.refund_network_id.empty());
    ASSERT_FALSE(p_.refund_txn.empty());
  }

  /// Runs through the admin API over the test's period.
  json run() {
    auto res = admin_reconcile(stack_, from_s_, ended_period_end_s());
    EXPECT_EQ(res.status, 200) << res.body;
    return res.body_json();
  }

  /// A charge made at the card network directly, not through the PSP, for
  /// `reference` (an intent id); its answer.
  http_reply network_charge(const std::string& reference, int amount,
                            const std::string& key) {
    http_request charge;
    charge.method = "POST";
    charge.path = "/v1/charges";
    charge.content_type = "application/json";
    charge.headers = {{"Idempotency-Key", key}};
    charge.body = json{{"amount", amount},
                       {"currency", "usd"},
                       {"card_number", "4242424242424242"},
                       {"exp_month", 12},
                       {"exp_year", 2034},
                       {"cvc", "123"},
                       {"merchant", stack_.merchant().id},
                       {"reference", reference}}
                    .dump();
    return http_call(stack_.sim_url(), charge);
  }

  /// Replaces the simulator's settlement faults.
  void faults(const json& set) {
    auto res = http_post_json(stack_.sim_url(), "/admin/settlement_faults",
                              set);
    ASSERT_EQ(res.status, 200) << res.body;
  }

  /// The single difference of a run, after checking there is exactly one.
  static json only_difference(const json& report, const std::string& kind) {
    // .at(): a const json's operator[] on a missing key (an error body) is
    // undefined behaviour; checked first, so the failure says what came.
    if (!report.is_object() || !report.contains("counts")
        || !report.at("counts").is_object()
        || !report.contains("differences")) {
      ADD_FAILURE() << "not a reconciliation report: " << report.dump(2);
      return json::object();
    }
    auto& counts = report.at("counts");
    auto& differences = report.at("differences");
    EXPECT_EQ(report.value("status", ""), "differences") << report.dump(2);
    EXPECT_EQ(counts.value("differences", -1), 1) << report.dump(2);
    EXPECT_EQ(counts.value(kind, -1), 1) << report.dump(2);
    if (!differences.is_array() || differences.size() != 1) {
      ADD_FAILURE() << report.dump(2);
      return json::object();
    }
    auto d = differences.at(0);
    EXPECT_EQ(d.value("kind", ""), kind) << d.dump();
    return d;
  }

  psp_stack stack_;
  int64_t from_s_ = 0;
  paid_set p_;
};

TEST_F(reconcile, clean_run_is_stored_and_listed) {
  auto report = run();
  EXPECT_EQ(report.value("status", ""), "clean") << report.dump(2);
  EXPECT_EQ(report["counts"].value("matched", -1), 5) << report.dump(2);
  EXPECT_EQ(report["counts"].value("psp_entries", -1), 5);
  EXPECT_EQ(report["counts"].value("network_lines", -1), 5);
  EXPECT_TRUE(report["differences"].empty());
  EXPECT_TRUE(report["event"].is_null());
  EXPECT_EQ(report.value("trigger", ""), "admin_api");
  auto id = report.value("id", "");
  auto one = http_get(stack_.node_url(), "/admin/reconciliations/" + id,
                      stack_.admin_token());
  EXPECT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.body_json(), report);
  auto list = http_get(stack_.node_url(), "/admin/reconciliations",
                       stack_.admin_token());
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.body_json()["data"].size(), 1u) << list.body;
  EXPECT_EQ(list.body_json()["data"][0].value("id", ""), id);
  EXPECT_EQ(http_get(stack_.node_url(), "/admin/reconciliations/recon_nope",
                     stack_.admin_token())
              .status,
            404);
  // The admin token is required.
  EXPECT_EQ(http_get(stack_.node_url(), "/admin/reconciliations").status, 401);
  EXPECT_EQ(http_get(stack_.node_url(), "/admin/reconciliations",
                     stack_.secret_key())
              .status,
            401);
  // from/to are checked.
  EXPECT_EQ(admin_reconcile(stack_, 100, 100).status, 400);
  // The CLI agrees and exits 0.
  auto cli = run_to_exit({psp_admin_binary(), "--redis",
                          stack_.redis_address(), "reconcile",
                          "--card-network-url", stack_.sim_url(), "--from",
                          std::to_string(from_s_), "--to",
                          std::to_string(ended_period_end_s())},
                         30s);
  EXPECT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  auto printed = json::parse(cli.out, nullptr, false);
  EXPECT_EQ(printed.value("status", ""), "clean") << cli.out;
  EXPECT_EQ(printed.value("trigger", ""), "cli");
}

TEST_F(reconcile, dropped_capture_line_is_missing_at_network) {
  faults({{"drop", {p_.ch_b}}});
  auto report = run();
  // Run as soon as the period ended, within the node's grace window (300
  // s): the line could still be on its way, so the run says it is
  // provisional and raises no operator event.
  EXPECT_EQ(report["provisional"], true) << report.dump(2);
  EXPECT_EQ(report.value("settles_at", 0), report.value("to", 0) + 300);
  EXPECT_TRUE(report["event"].is_null()) << report.dump(2);
  // (The stack's merchant was created with psp-admin: that is an operator
  // event of its own, admin.create_merchant.)
  auto operator_events = http_get(stack_.node_url(), "/admin/events?limit=100",
                                  stack_.admin_token());
  auto operator_list = operator_events.body_json();
  for (auto& e : operator_list["data"]) {
    EXPECT_EQ(e.value("type", "").rfind("reconciliation.", 0),
              std::string::npos)
      << operator_events.body;
  }
  auto d = only_difference(report, "missing_at_network");
  EXPECT_TRUE(d["network_line"].is_null()) << d.dump();
  EXPECT_EQ(d.value("psp_txn", ""), txn_with_source(stack_, p_.ch_b));
  EXPECT_EQ(d.value("intent", ""), p_.pi_b);
  EXPECT_EQ(d.value("psp_amount_minor", 0), 1500);
}

TEST_F(reconcile, dropped_refund_line_is_missing_at_network) {
  faults({{"drop", {p_.refund_network_id}}});
  auto d = only_difference(run(), "missing_at_network");
  EXPECT_EQ(d.value("psp_txn", ""), p_.refund_txn);
  EXPECT_EQ(d.value("intent", ""), p_.pi_a);
  EXPECT_EQ(d.value("type", ""), "refund");
  EXPECT_EQ(d.value("psp_amount_minor", 0), 500);
}

TEST_F(reconcile, changed_amount_is_an_amount_mismatch) {
  faults({{"amount", {{p_.ch_manual, 2499}}}});
  auto d = only_difference(run(), "amount_mismatch");
  EXPECT_EQ(d.value("network_line", ""), p_.ch_manual);
  EXPECT_EQ(d.value("psp_txn", ""), txn_with_source(stack_, p_.ch_manual));
  EXPECT_EQ(d.value("intent", ""), p_.pi_manual);
  EXPECT_EQ(d.value("psp_amount_minor", 0), 2500);
  EXPECT_EQ(d.value("network_amount_minor", 0), 2499);
}

TEST_F(reconcile, duplicated_line_is_a_duplicate) {
  faults({{"duplicate", {p_.refund_network_id}}});
  auto d = only_difference(run(), "duplicate");
  EXPECT_EQ(d.value("side", ""), "network");
  EXPECT_EQ(d.value("copies", 0), 2);
  EXPECT_EQ(d.value("network_line", ""), p_.refund_network_id);
  EXPECT_EQ(d.value("psp_txn", ""), p_.refund_txn);
  EXPECT_EQ(d.value("intent", ""), p_.pi_a);
  // Clearing the faults makes the next run clean again.
  http_request clear;
  clear.method = "DELETE";
  clear.path = "/admin/settlement_faults";
  auto cleared = http_call(stack_.sim_url(), clear);
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_EQ(run().value("status", ""), "clean");
}

TEST_F(reconcile, a_ledger_transaction_booked_twice_is_a_duplicate) {
  // What decision 46's fault did: the commit step of a charge ran twice,
  // so its ledger entry is there twice while its balance transaction (one
  // hash) and the network's line still match.
  auto txns = stack_.redis_cmd({"XRANGE", "ledger:transactions", "-", "+"});
  ASSERT_TRUE(txns && !txns->elements.empty());
  std::vector<std::string> copy{"XADD", "ledger:transactions", "*"};
  std::string txn;
  for (auto& t : txns->elements) {
    auto& f = t.elements[1].elements;
    bool of_b = false;
    for (size_t i = 0; i + 1 < f.size(); i += 2) {
      of_b = of_b || (f[i].str == "intent" && f[i + 1].str == p_.pi_b);
    }
    if (of_b) {
      for (size_t i = 0; i + 1 < f.size(); i += 2) {
        copy.push_back(f[i].str);
        copy.push_back(f[i + 1].str);
        if (f[i].str == "txn") {
          txn = f[i + 1].str;
        }
      }
      break;
    }
  }
  ASSERT_FALSE(txn.empty());
  ASSERT_TRUE(stack_.redis_cmd(copy));
  auto d = only_difference(run(), "duplicate");
  EXPECT_EQ(d.value("side", ""), "ledger");
  EXPECT_EQ(d.value("copies", 0), 2);
  EXPECT_EQ(d.value("psp_txn", ""), txn);
  EXPECT_EQ(d.value("intent", ""), p_.pi_b);
  EXPECT_EQ(d.value("type", ""), "charge");
}

TEST_F(reconcile, the_checkouts_a_rollback_reopened_are_ended_before_serving) {
  // After a restore of an older backup (decision 62) a checkout paid since
  // is open again, its charge at the network and missing at the PSP: the
  // re-test paid one twice. Here the network holds a charge for an open
  // session's intent, and one for an intent no session has.
  auto reopened = stack_.create_session(1200);
  auto cs = reopened["id"].get<std::string>();
  auto pi = reopened["payment_intent"].get<std::string>();
  for (auto [reference, amount] :
       std::vector<std::pair<std::string, int>>{{pi, 1200},
                                                {"pi_api_only", 777}}) {
    ASSERT_EQ(network_charge(reference, amount, "recon-test-" + reference)
                .status,
              200);
  }
  auto admin = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{psp_admin_binary(), "--redis",
                                  stack_.redis_address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_to_exit(argv, 30s);
  };
  auto recon = admin({"reconcile", "--card-network-url", stack_.sim_url(),
                      "--from", std::to_string(from_s_), "--to",
                      std::to_string(ended_period_end_s()), "--grace-s", "0"});
  ASSERT_EQ(recon.exit_code, 1) << recon.out << recon.err;
  auto run_id = json::parse(recon.out, nullptr, false).value("id", "");
  ASSERT_FALSE(run_id.empty()) << recon.out;
  ASSERT_FALSE(stack_.page_nonce(cs).empty()) << "open before";

  auto ended = admin({"end-reopened-sessions", "--run", run_id});
  ASSERT_EQ(ended.exit_code, 0) << ended.out << ended.err;
  auto out = json::parse(ended.out, nullptr, false);
  ASSERT_EQ(out["ended"].size(), 1u) << ended.out;
  EXPECT_EQ(out["ended"][0].value("session", ""), cs);
  EXPECT_EQ(out["ended"][0].value("intent", ""), pi);
  EXPECT_EQ(out["no_session"], json::array({"pi_api_only"})) << ended.out;
  // The page takes no card any more; the sweep expires it with its event.
  EXPECT_EQ(http_get(stack_.node_url(), "/pay/" + cs).status, 410);
  EXPECT_TRUE(wait_until(
    [&] {
      return stack_.api_get("/v1/checkout/sessions/" + cs)
               .body_json()
               .value("status", "")
             == "expired";
    },
    10s, 100ms));
  // Again: nothing left open; an unknown run is a usage error.
  auto again = admin({"end-reopened-sessions", "--run", run_id});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  auto again_out = json::parse(again.out, nullptr, false);
  EXPECT_TRUE(again_out["ended"].empty()) << again.out;
  EXPECT_EQ(again_out["not_open"].size(), 1u) << again.out;
  EXPECT_EQ(admin({"end-reopened-sessions", "--run", "recon_nothing"})
              .exit_code,
            2);
  EXPECT_EQ(admin({"end-reopened-sessions"}).exit_code, 2);
}

TEST_F(reconcile, a_resolved_difference_is_shown_with_its_note_and_not_raised_again) {
  // The finance audit: a difference stayed in every run of its period, each
  // raising its event, with nowhere to say it was handled.
  ASSERT_EQ(network_charge("pi_settled_by_hand", 888, "recon-test-by-hand")
              .status,
            200);
  // The run's event id; null when it raised none.
  auto event_of = [](const json& report) {
    auto it = report.find("event");
    return it != report.end() && it->is_string() ? it->get<std::string>()
                                                 : std::string{};
  };
  // psp-admin with no grace window: a final run, which raises its event.
  auto final_run = [&](int expected_exit) {
    auto cli = run_to_exit({psp_admin_binary(), "--redis",
                            stack_.redis_address(), "reconcile",
                            "--card-network-url", stack_.sim_url(), "--from",
                            std::to_string(from_s_), "--to",
                            std::to_string(ended_period_end_s()),
                            "--grace-s", "0"},
                           30s);
    EXPECT_EQ(cli.exit_code, expected_exit) << cli.out << cli.err;
    return json::parse(cli.out, nullptr, false);
  };
  auto first = final_run(1);
  auto d = only_difference(first, "missing_at_psp");
  EXPECT_TRUE(d.contains("resolution") && d["resolution"].is_null())
    << d.dump();
  EXPECT_EQ(first.value("unresolved", -1), 1) << first.dump();
  EXPECT_FALSE(event_of(first).empty()) << first.dump();
  auto run_id = first.value("id", "");
  auto resolve = [&](const std::string& index, const std::string& body) {
    http_request req;
    req.method = "POST";
    req.path = "/admin/reconciliations/" + run_id + "/differences/" + index
               + "/resolve";
    req.content_type = "application/x-www-form-urlencoded";
    req.bearer = stack_.admin_token();
    req.body = body;
    return http_call(stack_.node_url(), req);
  };

  // Refused: no note, a blank one, a card number in it, no such index, no
  // token.
  EXPECT_EQ(resolve("0", "").status, 400);
  EXPECT_EQ(resolve("0", "note=%20%20").status, 400);
  auto pan = resolve("0", "note=refunded+4242424242424242");
  EXPECT_EQ(pan.status, 400);
  EXPECT_EQ(pan.body.find("4242424242424242"), std::string::npos) << pan.body;
  EXPECT_EQ(resolve("1", "note=x").status, 404);
  http_request no_token;
  no_token.method = "POST";
  no_token.path = "/admin/reconciliations/" + run_id
                  + "/differences/0/resolve";
  no_token.content_type = "application/x-www-form-urlencoded";
  no_token.body = "note=x";
  EXPECT_EQ(http_call(stack_.node_url(), no_token).status, 401);

  auto note = "refunded at the network by hand, ticket FIN-7";
  auto done = resolve("0", "note=refunded+at+the+network+by+hand%2C+ticket+FIN-7");
  ASSERT_EQ(done.status, 200) << done.body;
  auto resolved = done.body_json();
  EXPECT_EQ(resolved.value("intent", ""), "pi_settled_by_hand");
  EXPECT_EQ(resolved["resolution"].value("note", ""), note) << done.body;
  EXPECT_EQ(resolved["resolution"].value("run", ""), run_id);
  // Once: a second resolution names the first.
  auto again = resolve("0", "note=another");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_NE(again.body.find("FIN-7"), std::string::npos) << again.body;

  // The run as stored shows it; so does the next run of the period, which
  // is clean for the operator (no event) though the difference stays.
  auto stored = http_get(stack_.node_url(), "/admin/reconciliations/" + run_id,
                         stack_.admin_token())
                  .body_json();
  EXPECT_EQ(stored.value("unresolved", -1), 0) << stored.dump();
  EXPECT_EQ(stored["differences"][0]["resolution"].value("note", ""), note);
  auto second = final_run(0); // nothing new to look at
  auto d2 = only_difference(second, "missing_at_psp");
  EXPECT_EQ(d2["resolution"].value("note", ""), note) << second.dump();
  EXPECT_EQ(second.value("unresolved", -1), 0);
  EXPECT_TRUE(event_of(second).empty()) << second.dump();
  // The admin API's own runs show it too.
  auto by_api = run();
  EXPECT_EQ(only_difference(by_api, "missing_at_psp")["resolution"]
              .value("note", ""),
            note);
  // The resolution is an operator event too.
  auto events = http_get(stack_.node_url(), "/admin/events?limit=100",
                         stack_.admin_token());
  EXPECT_NE(events.body.find("reconciliation.difference_resolved"),
            std::string::npos)
    << events.body;
  // A new difference of the same period is raised as before.
  ASSERT_EQ(network_charge("pi_new_foreign", 111, "recon-test-new-foreign")
              .status,
            200);
  auto third = final_run(1);
  EXPECT_EQ(third.value("unresolved", -1), 1) << third.dump();
  EXPECT_FALSE(event_of(third).empty()) << third.dump();
}

TEST_F(reconcile, a_charge_the_psp_never_made_is_missing_at_psp) {
  auto res = network_charge("pi_unknown_to_the_psp", 777,
                            "recon-test-foreign-charge");
  ASSERT_EQ(res.status, 200) << res.body;
  auto foreign = res.body_json().value("id", "");
  // No grace window: the run is final at once, and raises its event.
  auto cli = run_to_exit({psp_admin_binary(), "--redis",
                          stack_.redis_address(), "reconcile",
                          "--card-network-url", stack_.sim_url(), "--from",
                          std::to_string(from_s_), "--to",
                          std::to_string(ended_period_end_s()), "--grace-s",
                          "0"},
                         30s);
  EXPECT_EQ(cli.exit_code, 1) << cli.out << cli.err;
  auto report = json::parse(cli.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << cli.out;
  EXPECT_EQ(report["provisional"], false) << cli.out;
  auto d = only_difference(report, "missing_at_psp");
  EXPECT_EQ(d.value("network_line", ""), foreign);
  EXPECT_TRUE(d["psp_txn"].is_null());
  EXPECT_EQ(d.value("intent", ""), "pi_unknown_to_the_psp");
  EXPECT_EQ(d.value("network_amount_minor", 0), 777);

  // The operator event: stored, in the operator's index, never a merchant's.
  auto event = report.value("event", "");
  ASSERT_FALSE(event.empty()) << cli.out;
  auto evt = stack_.redis_hash("evt:" + event);
  EXPECT_EQ(evt["type"], "reconciliation.differences_found");
  EXPECT_EQ(evt["audience"], "operator");
  EXPECT_EQ(evt["merchant"], "");
  auto snapshot = json::parse(evt["snapshot"], nullptr, false);
  EXPECT_EQ(snapshot.value("run", ""), report.value("id", ""));
  auto indexed = stack_.redis_cmd({"ZSCORE", "events:operator", event});
  ASSERT_TRUE(indexed.has_value());
  EXPECT_EQ(indexed->kind, redis_reply::string);
  EXPECT_EQ(stack_.api_get("/v1/events/" + event).status, 404);
  auto listed = stack_.api_get("/v1/events?limit=100").body_json();
  for (auto& e : listed["data"]) {
    EXPECT_NE(e.value("type", ""), "reconciliation.differences_found");
  }
  // The operator reads it through the admin API.
  auto events = http_get(stack_.node_url(), "/admin/events",
                         stack_.admin_token());
  ASSERT_EQ(events.status, 200) << events.body;
  // Besides the stack's admin.create_merchant.
  auto listed_events = json::array();
  auto events_list = events.body_json();
  for (auto& e : events_list["data"]) {
    if (e.value("type", "").rfind("reconciliation.", 0) == 0) {
      listed_events.push_back(e);
    }
  }
  ASSERT_EQ(listed_events.size(), 1u) << events.body;
  EXPECT_EQ(listed_events[0].value("id", ""), event);
  EXPECT_EQ(listed_events[0].value("type", ""),
            "reconciliation.differences_found");
  EXPECT_EQ(listed_events[0]["data"].value("run", ""), report.value("id", ""));
  EXPECT_EQ(http_get(stack_.node_url(), "/admin/events").status, 401);
  // Stored like the admin API's runs.
  auto stored = http_get(stack_.node_url(),
                         "/admin/reconciliations/" + report.value("id", ""),
                         stack_.admin_token());
  EXPECT_EQ(stored.body_json(), report);
}

TEST_F(reconcile, cli_usage_and_unreachable_network) {
  auto usage = run_to_exit({psp_admin_binary(), "--redis",
                            stack_.redis_address(), "reconcile"},
                           20s);
  EXPECT_EQ(usage.exit_code, 2) << usage.out << usage.err;
  auto half = run_to_exit({psp_admin_binary(), "--redis",
                           stack_.redis_address(), "reconcile",
                           "--card-network-url", stack_.sim_url(), "--from",
                           "5"},
                          20s);
  EXPECT_EQ(half.exit_code, 2) << half.out << half.err;
  auto away_port = std::to_string(free_port());
  auto away = run_to_exit(
    {psp_admin_binary(), "--redis", stack_.redis_address(), "reconcile",
     "--card-network-url",
     "http://127.0.0.1:" + away_port, "--from", "0", "--to",
     "10"},
    30s);
  EXPECT_EQ(away.exit_code, 3) << away.out << away.err;
  // The reason, not httplib's "Connection".
  EXPECT_NE(away.err.find(": connection refused (127.0.0.1:" + away_port
                          + ")"),
            std::string::npos)
    << away.err;
  // A server that is not the card network: its status, and a hint.
  auto wrong = run_to_exit(
    {psp_admin_binary(), "--redis", stack_.redis_address(), "reconcile",
     "--card-network-url", stack_.node_url(), "--from", "0", "--to", "10"},
    30s);
  EXPECT_EQ(wrong.exit_code, 3) << wrong.out << wrong.err;
  EXPECT_NE(wrong.err.find(": HTTP 404: {"), std::string::npos) << wrong.err;
  EXPECT_NE(wrong.err.find("is this the card network's URL?)\n"),
            std::string::npos)
    << wrong.err;
}

TEST(reconcile_cli, names_the_flag_that_is_wrong) {
  // Each is refused before Redis or the network is asked (neither listens).
  auto redis = "127.0.0.1:" + std::to_string(free_port());
  auto admin = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {psp_admin_binary(), "--redis", redis});
    return run_to_exit(args, 20s);
  };
  std::string url = "http://127.0.0.1:" + std::to_string(free_port());
  struct refused_case {
    std::vector<std::string> args;
    std::string message;
  };
  for (auto& c : std::vector<refused_case>{
         {{"reconcile"},
          "reconcile needs --card-network-url URL (the card network's base "
          "URL, e.g. http://127.0.0.1:4010)"},
         {{"reconcile", "--card-network-url", "127.0.0.1:4010"},
          "--card-network-url must start with http:// or https://, not "
          "'127.0.0.1:4010'"},
         {{"reconcile", "--card-network-url", url, "--grace-s", "-1"},
          "--grace-s must be a whole number of seconds from 0 to 86400, not "
          "'-1'"},
         {{"reconcile", "--card-network-url", url, "--grace-s",
           "99999999999999999999"},
          "--grace-s must be a whole number of seconds from 0 to 86400, not "
          "'99999999999999999999'"},
         {{"reconcile", "--card-network-url", url, "--from", "abc", "--to",
           "10"},
          "--from must be a Unix time in whole seconds from 0 to "
          "253402300799, not 'abc'"},
         {{"reconcile", "--card-network-url", url, "--from", "5"},
          "reconcile needs both --from S and --to S (Unix seconds, the period "
          "[from, to)), or neither for the previous hour"},
         {{"reconcile", "--card-network-url", url, "--from=10", "--to=10"},
          "--to (10) must be after --from (10)"},
         {{"reconcile", "--card-network-url", url, "--from=0",
           "--to=40000000"},
          "--from and --to may be at most 367 days apart; they are 462 days "
          "apart"},
         {{"statement", "--from", "1", "--to", "2"},
          "statement needs --merchant ID (acct_...)"},
         {{"statement", "--merchant", "acct_x", "--from", "1"},
          "statement needs both --from S and --to S (Unix seconds, the "
          "period [from, to))\n"},
         {{"statement", "--merchant", "acct_x", "--from", "1", "--to", "2",
           "--format", "xml"},
          "--format must be json, csv or html, not 'xml'"}}) {
    auto res = admin(c.args);
    EXPECT_EQ(res.exit_code, 2) << c.args.back() << ": " << res.err;
    EXPECT_NE(res.err.find("psp-admin: " + c.message), std::string::npos)
      << res.err;
  }
}

TEST_F(reconcile, reports_are_of_periods_that_have_ended) {
  auto m = stack_.merchant().id;
  auto admin = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{psp_admin_binary(), "--redis",
                                  stack_.redis_address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_to_exit(argv, 20s);
  };
  auto statement = [&](int64_t from, int64_t to) {
    return admin({"statement", "--merchant", m, "--from",
                  std::to_string(from), "--to", std::to_string(to)});
  };
  auto reconcile_cli = [&](int64_t from, int64_t to) {
    return admin({"reconcile", "--card-network-url", stack_.sim_url(),
                  "--from", std::to_string(from), "--to",
                  std::to_string(to)});
  };
  auto now = now_s();
  auto future = statement(now + 3600, now + 7200);
  EXPECT_EQ(future.exit_code, 2) << future.out << future.err;
  EXPECT_TRUE(future.out.empty()) << future.out;
  EXPECT_NE(future.err.find("psp-admin: --to (" + std::to_string(now + 7200)
                            + ") is "),
            std::string::npos)
    << future.err;
  EXPECT_NE(future.err.find(" s in the future: a statement covers a period "
                            "that has ended"),
            std::string::npos)
    << future.err;
  auto ahead = reconcile_cli(from_s_, now + 60);
  EXPECT_EQ(ahead.exit_code, 2) << ahead.out << ahead.err;
  EXPECT_NE(ahead.err.find(" s in the future: a reconciliation covers a "
                           "period that has ended"),
            std::string::npos)
    << ahead.err;
  // The admin API refuses the same, and stores no run for it.
  auto runs_before = http_get(stack_.node_url(), "/admin/reconciliations",
                              stack_.admin_token());
  auto api_run = admin_reconcile(stack_, from_s_, now + 60);
  EXPECT_EQ(api_run.status, 400) << api_run.body;
  EXPECT_EQ(api_run.body_json()["error"]["param"], "to") << api_run.body;
  EXPECT_EQ(http_get(stack_.node_url(), "/admin/reconciliations",
                     stack_.admin_token())
              .body,
            runs_before.body);
  auto api_statement = http_get(
    stack_.node_url(),
    "/admin/statements/" + m + "?from=" + std::to_string(from_s_)
      + "&to=" + std::to_string(now + 60),
    stack_.admin_token());
  EXPECT_EQ(api_statement.status, 400) << api_statement.body;
  EXPECT_NE(api_statement.body_json()["error"]["message"]
              .get<std::string>()
              .find("a statement covers a period that has ended"),
            std::string::npos)
    << api_statement.body;
  // A `to` given twice (a past one and a future one) is refused, not
  // read as whichever comes first.
  auto twice = http_post_form(
    stack_.node_url(),
    "/admin/reconciliations?to=" + std::to_string(now - 1),
    {{"from", std::to_string(from_s_)}, {"to", std::to_string(now + 60)}},
    stack_.admin_token());
  EXPECT_EQ(twice.status, 400) << twice.body;
  EXPECT_NE(twice.body.find("to is given twice"), std::string::npos)
    << twice.body;
  auto twice_get = http_get(stack_.node_url(),
                            "/admin/statements/" + m + "?from="
                              + std::to_string(from_s_) + "&to="
                              + std::to_string(now - 1) + "&to="
                              + std::to_string(now + 60),
                            stack_.admin_token());
  EXPECT_EQ(twice_get.status, 400) << twice_get.body;
  // A period that has not ended yet is refused too; one that has is not.
  EXPECT_EQ(statement(from_s_, now_s() + 5).exit_code, 2);
  ASSERT_TRUE(wait_until([&] { return now_s() > now; }, 3s));
  auto ended = statement(from_s_, now + 1);
  ASSERT_EQ(ended.exit_code, 0) << ended.out << ended.err;
  auto doc = json::parse(ended.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << ended.out;
  EXPECT_TRUE(doc.value("consistent", false)) << ended.out;
  EXPECT_EQ(doc["lines"].size(), 5u) << ended.out;
  EXPECT_EQ(reconcile_cli(from_s_, now + 1).exit_code, 0);
}

} // namespace
} // namespace psp::test
