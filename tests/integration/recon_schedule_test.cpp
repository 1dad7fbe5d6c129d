// Goal: the scheduled reconciliation runs on one node at a time: with two
// psp-node processes sharing Redis and 2-second periods, every period is
// reconciled exactly once, the periods follow each other without gaps, each
// has the statements of the merchants active in it stored (none of an idle
// merchant), and a lease held elsewhere stops every node until it expires
// (then the missed periods are caught up).

#include "tests/support/payment_flows.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <thread>

namespace psp::test {
namespace {

constexpr int64_t interval_s = 2;

stack_options scheduled(size_t nodes) {
  stack_options o;
  o.nodes = nodes;
  o.node_args = {"--psp.reconcile-interval-s=" + std::to_string(interval_s),
                 "--psp.reconcile-grace-s=2"};
  return o;
}

struct stored_run {
  std::string id;
  int64_t from_s = 0;
  int64_t to_s = 0;
  std::map<std::string, std::string> fields;
};

/// Every stored run, oldest period first.
std::vector<stored_run> runs(psp_stack& stack) {
  std::vector<stored_run> out;
  auto ids = stack.redis_cmd({"ZRANGE", "recon:runs", "0", "-1"});
  if (!ids) {
    return out;
  }
  for (auto& id : ids->elements) {
    auto f = stack.redis_hash("recon:run:" + id.str);
    out.push_back({id.str, std::stoll(f["from"]), std::stoll(f["to"]), f});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) {
    return a.from_s < b.from_s;
  });
  return out;
}

/// Waits until a stored run covers `t_s`.
bool wait_for_period_of(psp_stack& stack, int64_t t_s,
                        std::chrono::milliseconds timeout) {
  return wait_until(
    [&] {
      auto all = runs(stack);
      return !all.empty() && all.back().to_s > t_s;
    },
    timeout, 200ms);
}

/// Whether `merchant_id` booked a balance transaction in [from_s, to_s).
bool active_in(psp_stack& stack, const std::string& merchant_id,
               int64_t from_s, int64_t to_s) {
  auto n = stack.redis_cmd({"ZCOUNT",
                            "merchant:" + merchant_id + ":balance_transactions",
                            std::to_string(from_s * 1000),
                            "(" + std::to_string(to_s * 1000)});
  return n && n->number > 0;
}

/// A stored statement of `merchant_id` for each run's period in which it
/// was active, consistent, and none of a period without activity (also
/// none of the periods before it existed).
void expect_statements_of_active_periods(psp_stack& stack,
                                         const std::string& merchant_id) {
  for (auto& r : runs(stack)) {
    SCOPED_TRACE(merchant_id + " [" + std::to_string(r.from_s) + ", "
                 + std::to_string(r.to_s) + ")");
    auto st = stack.redis_cmd({"GET", "statement:" + merchant_id + ":"
                                        + std::to_string(r.from_s)});
    ASSERT_TRUE(st);
    if (!active_in(stack, merchant_id, r.from_s, r.to_s)) {
      EXPECT_EQ(st->kind, redis_reply::nil) << "an idle period's statement";
      continue;
    }
    ASSERT_EQ(st->kind, redis_reply::string) << "no statement";
    auto doc = json::parse(st->str, nullptr, false);
    EXPECT_TRUE(doc.value("consistent", false)) << st->str;
    for (auto& t : doc["totals"]) {
      EXPECT_EQ(t["closing_minor"].get<int64_t>(),
                t["opening_minor"].get<int64_t>()
                  + t["net_minor"].get<int64_t>());
    }
  }
}

/// One run per period, back to back from the schedule's start, each with
/// its marker. Fills `per_node` with how many runs each node stored.
void expect_one_run_per_period(psp_stack& stack,
                               std::map<std::string, int>& per_node) {
  auto all = runs(stack);
  ASSERT_GE(all.size(), 3u);
  auto since = std::stoll(stack.redis_hash("recon:run:" + all[0].id)["from"]);
  auto stored_since = stack.redis_cmd({"GET", "recon:schedule:since"});
  ASSERT_TRUE(stored_since && stored_since->kind == redis_reply::string);
  EXPECT_EQ(since, std::stoll(stored_since->str));
  for (size_t i = 0; i < all.size(); ++i) {
    auto& r = all[i];
    SCOPED_TRACE("run " + r.id + " [" + std::to_string(r.from_s) + ", "
                 + std::to_string(r.to_s) + ")");
    EXPECT_EQ(r.fields["trigger"], "schedule");
    EXPECT_EQ(r.to_s - r.from_s, interval_s);
    if (i > 0) {
      EXPECT_EQ(r.from_s, all[i - 1].to_s) << "a gap or a repeated period";
    }
    EXPECT_EQ(r.fields["status"], "clean") << r.fields["differences"];
    auto marker = stack.redis_cmd({"GET", "recon:period:"
                                            + std::to_string(r.from_s) + ":"
                                            + std::to_string(r.to_s)});
    ASSERT_TRUE(marker && marker->kind == redis_reply::string);
    EXPECT_EQ(marker->str, r.id);
    ++per_node[r.fields["node"]];
  }
  for (auto& [node, n] : per_node) {
    std::cout << "[ info ] " << node << " stored " << n << " runs\n";
  }
}

TEST(recon_schedule, two_nodes_store_exactly_one_run_per_period) {
  psp_stack stack{scheduled(2)};
  // Payments in several periods, through both nodes.
  auto end = std::chrono::steady_clock::now() + 7s;
  int64_t last_paid_s = 0;
  for (int i = 0; std::chrono::steady_clock::now() < end; ++i) {
    auto res = stack.api_post("/v1/payment_intents",
                              {{"amount", std::to_string(1000 + i)},
                               {"currency", "usd"},
                               {"payment_method", "pm_card_visa"},
                               {"confirm", "true"}},
                              i % 2);
    ASSERT_EQ(res.status, 200) << res.body;
    wait_intent(stack, res.body_json().value("id", ""));
    last_paid_s = now_s();
    std::this_thread::sleep_for(300ms);
  }
  ASSERT_TRUE(wait_for_period_of(stack, last_paid_s, 20s));
  // A merchant that joins now and pays once gets the statement of that
  // period only: none of the periods before it existed (the schedule
  // catches some up) nor of its idle ones (~550 B each a merchant, for
  // good: the capacity audit).
  auto late = stack.create_merchant("Late Ltd");
  auto late_paid = stack.api_post("/v1/payment_intents",
                                  {{"amount", "777"},
                                   {"currency", "usd"},
                                   {"payment_method", "pm_card_visa"},
                                   {"confirm", "true"}},
                                  0, late.secret_key);
  ASSERT_EQ(late_paid.status, 200) << late_paid.body;
  ASSERT_EQ(late_paid.body_json().value("status", ""), "succeeded")
    << late_paid.body;
  // The node that happened to win so far goes away: the other takes the
  // lease over and carries on without a gap or a repeat.
  auto winner = runs(stack).back().fields["node"];
  auto loser = winner == stack.node_id(0) ? 1 : 0;
  stack.stop_node(1 - loser);
  ASSERT_TRUE(wait_for_period_of(stack, now_s() + 1, 20s));
  stack.stop_node(loser);
  std::map<std::string, int> per_node;
  expect_one_run_per_period(stack, per_node);
  EXPECT_GT(per_node[stack.node_id(loser)], 0) << "no takeover";
  expect_statements_of_active_periods(stack, stack.merchant().id);
  expect_statements_of_active_periods(stack, late.id);
  auto late_statements = stack.redis_cmd(
    {"ZCARD", "merchant:" + late.id + ":statements"});
  EXPECT_TRUE(late_statements && late_statements->number == 1);
  auto txns = balance_transactions(stack);
  int64_t reconciled = 0;
  for (auto& r : runs(stack)) {
    reconciled += json::parse(r.fields["counts"])["matched"].get<int64_t>();
  }
  EXPECT_EQ(reconciled, static_cast<int64_t>(txns.size()) + 1)
    << "every payment (the late merchant's too) reconciled in exactly one "
       "period";
}

TEST(recon_schedule, a_lease_held_elsewhere_stops_every_node_until_it_expires) {
  psp_stack stack{scheduled(2)};
  auto taken = stack.redis_cmd(
    {"SET", "recon:lease", "someone-else", "PX", "6000"});
  ASSERT_TRUE(taken && taken->ok());
  auto held_until = now_s() + 6;
  // One payment: a period with a statement to store.
  auto paid = stack.api_post("/v1/payment_intents",
                             {{"amount", "1234"},
                              {"currency", "usd"},
                              {"payment_method", "pm_card_visa"},
                              {"confirm", "true"}});
  ASSERT_EQ(paid.status, 200) << paid.body;
  std::this_thread::sleep_for(5s);
  EXPECT_TRUE(runs(stack).empty()) << "a node ran while the lease was held";
  ASSERT_TRUE(wait_for_period_of(stack, held_until, 20s));
  // The stored statements are served by the admin API.
  auto m = stack.merchant().id;
  auto listed = http_get(stack.node_url(1), "/admin/statements/" + m
                                              + "/stored",
                         stack.admin_token());
  ASSERT_EQ(listed.status, 200) << listed.body;
  auto data = listed.body_json()["data"];
  ASSERT_FALSE(data.empty()) << listed.body;
  auto from = std::to_string(data[0]["from"].get<int64_t>());
  auto csv = http_get(stack.node_url(1),
                      "/admin/statements/" + m + "/stored/" + from
                        + "?format=csv",
                      stack.admin_token());
  EXPECT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.header("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv.body.rfind("row,merchant,currency,", 0), 0u) << csv.body;
  EXPECT_EQ(http_get(stack.node_url(1),
                     "/admin/statements/" + m + "/stored/12345",
                     stack.admin_token())
              .status,
            404);
  stack.stop_node(0);
  stack.stop_node(1);
  std::map<std::string, int> per_node;
  expect_one_run_per_period(stack, per_node);
}

int64_t redis_now_s(psp_stack& stack) {
  auto t = stack.redis_cmd({"TIME"});
  return t && t->elements.size() == 2 ? std::stoll(t->elements[0].str) : 0;
}

TEST(recon_schedule, a_node_whose_clock_jumps_ahead_runs_no_period_early) {
  // The clock audit stepped a node's clock ahead: it ran the current hour
  // and stored it as final, with false differences and a false operator
  // event (the hour was never reconciled again), and its sweep expired
  // sessions early. Which periods have ended and which sessions are due
  // are now judged on Redis's clock, and the node says its clock moved.
  // Since decision 63 the node tells time by Redis's clock altogether.
  temp_dir dir;
  auto clock_file = dir.path() + "/offset_ms";
  std::ofstream{clock_file} << "0";
  auto opts = scheduled(1);
  opts.node_clock_file = clock_file;
  psp_stack stack{opts};
  ASSERT_TRUE(wait_for_period_of(stack, now_s() - 4, 20s));
  // A session open for another 31 minutes by Redis's clock: the node's
  // expiry sweep, two hours ahead, must not end it (it expired sessions
  // up to an hour early).
  auto open_id = stack
                   .create_session(2000, 1,
                                   {{"expires_at",
                                     std::to_string(redis_now_s(stack)
                                                    + 31 * 60)}})["id"]
                   .get<std::string>();
  std::ofstream{clock_file, std::ios::trunc} << "7200000";
  std::this_thread::sleep_for(4s);
  EXPECT_EQ(stack.redis_hash("cs:" + open_id)["status"], "open")
    << "expired early by a node's clock";
  // Everything else the node stamps or judges follows Redis's clock too
  // (decision 63): the hosted page still offers the form (it showed the
  // session expired), a session made now is stamped now (it was 2 h on).
  EXPECT_FALSE(stack.page_nonce(open_id).empty())
    << "the page judged the session by the node's clock";
  auto made_now = stack.create_session();
  EXPECT_NEAR(made_now.value("created", int64_t{0}), redis_now_s(stack), 5)
    << made_now.dump();
  // And the operator's gauge says how far apart the two clocks are.
  auto metrics = http_get(stack.node_url(), "/metrics").body;
  auto at = metrics.find("\npsp_clock_offset_seconds ");
  ASSERT_NE(at, std::string::npos) << metrics;
  EXPECT_NEAR(std::stod(metrics.substr(at + 26)), 7200.0, 5.0);
  auto redis_now = redis_now_s(stack);
  ASSERT_GT(redis_now, 0);
  for (auto& r : runs(stack)) {
    EXPECT_LE(r.to_s + 2, redis_now + 1)
      << "period [" << r.from_s << ", " << r.to_s << ") run before its "
      << "end and grace by Redis's clock";
  }
  EXPECT_NE(tail_file(stack.node_log(0), 400).find("event=clock_offset "),
            std::string::npos)
    << "the jump is told";
  std::ofstream{clock_file, std::ios::trunc} << "0";
  EXPECT_TRUE(stack.wait_for_log(0, "event=clock_offset_recovered", 5s));
}

/// The operator events of `type`, as GET /admin/events lists them.
std::vector<json> operator_events(psp_stack& stack, const std::string& type) {
  std::vector<json> out;
  auto listed = http_get(stack.node_url(), "/admin/events?limit=100",
                         stack.admin_token());
  for (auto& e : listed.body_json().value("data", json::array())) {
    if (e.value("type", "") == type) {
      out.push_back(e);
    }
  }
  return out;
}

TEST(recon_schedule, what_the_schedule_cannot_do_is_told_once_as_an_event) {
  psp_stack stack{scheduled(1)};
  // The card network is away: the due period fails on every tick (~0.5
  // s), and is told once.
  stack.stop_sim();
  std::vector<json> failed;
  ASSERT_TRUE(wait_until(
    [&] {
      failed = operator_events(stack, "reconciliation.failed");
      return !failed.empty();
    },
    20s, 200ms));
  std::this_thread::sleep_for(3s); // several more failing ticks
  failed = operator_events(stack, "reconciliation.failed");
  std::set<std::pair<int64_t, int64_t>> periods;
  for (auto& e : failed) {
    periods.insert({e["data"].value("from", 0), e["data"].value("to", 0)});
    EXPECT_FALSE(e["data"].value("reason", "").empty()) << e.dump();
  }
  EXPECT_EQ(periods.size(), failed.size()) << "a period told twice";
  stack.start_sim();
  ASSERT_TRUE(wait_for_period_of(stack, now_s(), 20s));

  // A gap longer than the catch-up window (24 periods): the schedule runs
  // the latest 24 and says the rest stay unreconciled.
  auto since = (now_s() - 40 * interval_s) / interval_s * interval_s;
  ASSERT_TRUE(stack.redis_cmd({"SET", "recon:schedule:since",
                               std::to_string(since)}));
  std::vector<json> skipped;
  ASSERT_TRUE(wait_until(
    [&] {
      skipped = operator_events(stack, "reconciliation.periods_skipped");
      return !skipped.empty();
    },
    20s, 200ms));
  EXPECT_EQ(skipped[0]["data"].value("since", 0), since);
  EXPECT_EQ(skipped[0]["data"].value("catch_up_max", 0), 24);
  EXPECT_GT(skipped[0]["data"].value("before", 0), since);
}

} // namespace
} // namespace psp::test
