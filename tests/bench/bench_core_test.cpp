// The benchmark's pure parts: option rules, the report's 3-node ratio and
// the Redis memory accounting.
#include <gtest/gtest.h>

#include "bench_options.hpp"
#include "latency_stats.hpp"
#include "redis_info.hpp"
#include "report_table.hpp"
#include "signature_check.hpp"
#include "thread_groups.hpp"
#include "thread_groups.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace {

using nlohmann::json;

std::string parse(std::vector<const char*> args, bench::bench_options& out) {
  args.insert(args.begin(), "payment-bench");
  return bench::parse_bench_options(static_cast<int>(args.size()),
                                    args.data(), out);
}

TEST(BenchOptions, EveryNodeNeedsAClientThread) {
  bench::bench_options opts;
  auto three = "--nodes=http://a:1,http://b:2,http://c:3";
  EXPECT_NE(parse({three, "--api-key=k", "--concurrency=2"}, opts), "");
  bench::bench_options ok;
  EXPECT_EQ(parse({three, "--api-key=k", "--concurrency=3"}, ok), "");
  EXPECT_EQ(ok.node_urls.size(), 3u);
  EXPECT_EQ(ok.concurrency, 3);
}

TEST(BenchOptions, NodesAndKeyAreRequired) {
  bench::bench_options no_nodes;
  EXPECT_NE(parse({"--api-key=k"}, no_nodes), "");
  bench::bench_options no_key;
  EXPECT_NE(parse({"--nodes=http://a:1"}, no_key), "");
  bench::bench_options bad_url;
  EXPECT_NE(parse({"--nodes=ftp://a:1", "--api-key=k"}, bad_url), "");
}

json phase_at(double per_s) {
  return json{{"pay", {{"per_s", per_s}}}};
}

/// The report's 3-node row for `d` (an empty row, and a failure, if none).
bench::report_row three_node_row(const bench::report_data& d, json& derived) {
  auto rows = bench::build_rows(d, derived);
  auto i = std::find_if(rows.begin(), rows.end(), [](auto& r) {
    return r.measure.rfind("3 nodes, one Redis", 0) == 0;
  });
  EXPECT_NE(i, rows.end());
  return i == rows.end() ? bench::report_row{} : *i;
}

TEST(BenchReport, OneRoundRatioIsThreeOverOne) {
  bench::report_data d;
  d.e2e_one = phase_at(800);
  d.e2e_three = phase_at(600);
  json derived;
  auto row = three_node_row(d, derived);
  EXPECT_EQ(row.ratio, "0.75×");
  EXPECT_EQ(row.met, std::optional<bool>{false});
  EXPECT_FALSE(derived.contains("e2e_rounds"));
}

// Rounds 1 3 3 1: the ratio of the sums, so a machine that slowed down
// between the rounds does not decide the verdict.
TEST(BenchReport, TwoRoundsUseTheRatioOfTheSums) {
  bench::report_data d;
  d.e2e_one = phase_at(900);
  d.e2e_three = phase_at(640);
  d.e2e_three_b = phase_at(560);
  d.e2e_one_b = phase_at(600);
  json derived;
  auto row = three_node_row(d, derived);
  EXPECT_EQ(row.ratio, "0.80×"); // 1,200 / 1,500; round one alone: 0.71
  EXPECT_EQ(row.met, std::optional<bool>{true});
  EXPECT_NE(row.value.find("rounds 640, 560"), std::string::npos);
  EXPECT_NE(row.floor.find("rounds 900, 600"), std::string::npos);
  EXPECT_DOUBLE_EQ(derived["e2e_three_nodes"]["per_s"].get<double>(), 600);
  EXPECT_DOUBLE_EQ(derived["e2e_three_nodes"]["ratio_to_one_node"].get<double>(),
                   0.8);
}

TEST(BenchReport, SmokeRunsAreNotJudged) {
  bench::report_data d;
  d.smoke = true;
  d.e2e_one = phase_at(100);
  d.e2e_three = phase_at(100);
  json derived;
  EXPECT_FALSE(three_node_row(d, derived).met.has_value());
}

TEST(LatencyStats, PercentilesOfSortedSamples) {
  std::vector<int64_t> sorted;
  for (int64_t i = 1; i <= 100; ++i) {
    sorted.push_back(i);
  }
  EXPECT_EQ(bench::percentile_sorted(sorted, 50), 50); // nearest rank
  EXPECT_EQ(bench::percentile_sorted(sorted, 99), 99);
  EXPECT_EQ(bench::percentile_sorted(sorted, 100), 100);
  EXPECT_EQ(bench::percentile_sorted({}, 99), 0);
}

TEST(SignatureCheck, KnownHmacAndForgedOrStaleHeaders) {
  // RFC 4231, test case 2.
  EXPECT_EQ(bench::hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  std::string secret = "whsec_test";
  std::string body = R"({"id":"evt_1"})";
  auto v1 = bench::hmac_sha256_hex(secret, "1000." + body);
  auto header = "t=1000,v1=" + v1;
  using bench::signature_verdict;
  EXPECT_EQ(bench::check_stripe_signature(header, body, secret, 1010),
            signature_verdict::ok);
  EXPECT_EQ(bench::check_stripe_signature(header, body + " ", secret, 1010),
            signature_verdict::mismatch);
  EXPECT_EQ(bench::check_stripe_signature(header, body, secret, 2000),
            signature_verdict::stale);
  EXPECT_EQ(bench::check_stripe_signature("", body, secret, 1010),
            signature_verdict::missing);
  EXPECT_EQ(bench::check_stripe_signature("v1=abc", body, secret, 1010),
            signature_verdict::malformed);
}


// /proc/<pid>/task/<tid>/{stat,status} as Linux writes them: utime and
// stime are fields 14 and 15, counted after the command name's ')'.
std::string stat_line(const char* name, int utime, int stime) {
  return std::string{"4242 ("} + name + ") S 1 1 1 0 -1 4194560 10 0 0 0 "
         + std::to_string(utime) + " " + std::to_string(stime)
         + " 0 0 20 0 9 0 100";
}

std::string status_text(int voluntary, int involuntary) {
  return "Name:\tpsp.http\nState:\tS (sleeping)\nvoluntary_ctxt_switches:\t"
         + std::to_string(voluntary) + "\nnonvoluntary_ctxt_switches:\t"
         + std::to_string(involuntary) + "\n";
}

TEST(ThreadGroups, ThreadsOfOneNameAddUpAndPerItemIsTheDifference) {
  bench::thread_groups before;
  ASSERT_TRUE(bench::add_thread(before, "psp.http",
                                stat_line("psp.http", 60, 40),
                                status_text(10, 1), 100));
  bench::thread_groups after;
  // Two threads of one name, one with a space in its stat name field.
  ASSERT_TRUE(bench::add_thread(after, "psp.http",
                                stat_line("psp.http", 150, 50),
                                status_text(100, 5), 100));
  ASSERT_TRUE(bench::add_thread(after, "psp.http",
                                stat_line("psp http", 80, 20),
                                status_text(30, 3), 100));
  ASSERT_TRUE(bench::add_thread(after, "caf.clock",
                                stat_line("caf.clock", 5, 0),
                                status_text(40, 0), 100));
  EXPECT_DOUBLE_EQ(after["psp.http"].cpu_s, 3.0);
  auto per = bench::thread_groups_per_item(before, after, 100);
  EXPECT_DOUBLE_EQ(per["psp.http"]["cpu_ms"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(per["psp.http"]["voluntary_switches"].get<double>(), 1.2);
  EXPECT_DOUBLE_EQ(per["psp.http"]["involuntary_switches"].get<double>(),
                   0.07);
  // A name seen only afterwards counts from zero.
  EXPECT_DOUBLE_EQ(per["caf.clock"]["cpu_ms"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(per["caf.clock"]["voluntary_switches"].get<double>(), 0.4);
  // A group that shrank (its threads ended) counts zero, never negative.
  auto back = bench::thread_groups_per_item(after, before, 100);
  EXPECT_DOUBLE_EQ(back["psp.http"]["cpu_ms"].get<double>(), 0.0);
}

TEST(ThreadGroups, UnreadableThreadsAreSkipped) {
  bench::thread_groups g;
  EXPECT_FALSE(bench::add_thread(g, "x", "", status_text(1, 1), 100));
  EXPECT_FALSE(bench::add_thread(g, "x", "4242 (x) S 1 2 3",
                                 status_text(1, 1), 100));
  EXPECT_FALSE(bench::add_thread(g, "x", stat_line("x", 1, 1), "Name:\tx\n",
                                 100));
  EXPECT_TRUE(g.empty());
}

TEST(BenchReport, NodeThreadsRowComparesOneNodeWithThree) {
  bench::report_data d;
  d.e2e_one = phase_at(800);
  d.e2e_three = phase_at(600);
  (*d.e2e_one)["cpu_ms_per_item"]["pay"]["node_threads"] = {
    {"caf.worker", {{"cpu_ms", 0.1}, {"voluntary_switches", 2.0}}},
    {"psp.http", {{"cpu_ms", 0.2}, {"voluntary_switches", 5.0}}}};
  (*d.e2e_three)["cpu_ms_per_item"]["pay"]["node_threads"] = {
    {"caf.worker", {{"cpu_ms", 0.16}, {"voluntary_switches", 4.2}}},
    {"psp.http", {{"cpu_ms", 0.26}, {"voluntary_switches", 5.3}}}};
  json derived;
  auto rows = bench::build_rows(d, derived);
  auto i = std::find_if(rows.begin(), rows.end(), [](auto& r) {
    return r.measure.rfind("node threads by name", 0) == 0;
  });
  ASSERT_NE(i, rows.end());
  // Largest first: one node's figure, then three nodes' summed.
  EXPECT_EQ(i->value, "psp.http 0.20 ms, 5.0 → 0.26 ms, 5.3; "
                      "caf.worker 0.10 ms, 2.0 → 0.16 ms, 4.2");
  // Results written before the per-thread figures: no row.
  d.e2e_one = phase_at(800);
  rows = bench::build_rows(d, derived);
  EXPECT_TRUE(std::none_of(rows.begin(), rows.end(), [](auto& r) {
    return r.measure.rfind("node threads by name", 0) == 0;
  }));
}

} // namespace

TEST(RedisInfo, KeyspaceKeysAddUpOverDatabases) {
  EXPECT_EQ(bench::parse_keyspace_keys("# Keyspace\r\n"
                                       "db0:keys=120,expires=7,avg_ttl=0\r\n"
                                       "db3:keys=5,expires=0,avg_ttl=0\r\n"),
            125u);
  EXPECT_EQ(bench::parse_keyspace_keys("# Keyspace\r\n"), 0u);
}

TEST(RedisInfo, AKeyTableResizeIsAmortizedNotChargedToOnePhase) {
  // 1,000 items added 6,000 keys and 2.5 MB, of which 2 MB were the key
  // table doubling (both tables alive mid-resize) inside the phase.
  bench::redis_snapshot before;
  before.used_memory = 10'000'000;
  before.keys = 60'000;
  before.key_table_bytes = 1'048'576;
  bench::redis_snapshot after = before;
  after.used_memory = 12'500'000;
  after.keys = 66'000;
  after.key_table_bytes = 3'145'728;
  auto d = bench::diff(before, after);
  EXPECT_EQ(d.key_table_bytes, 2'097'152);
  EXPECT_EQ(d.keys, 6'000);
  // Raw: 2,500 B an item. Amortized: (2.5 MB - 2 MB) / 1,000 plus 6 keys
  // at the tables' 47.66 B a key now.
  auto per_item = bench::amortized_memory_per_item(d, 1'000);
  EXPECT_NEAR(per_item, 402.848 + 6 * 3'145'728.0 / 66'000, 0.01);
  EXPECT_LT(per_item, 2'500);
  // Without a resize the two agree but for the tables' share.
  after.key_table_bytes = before.key_table_bytes;
  d = bench::diff(before, after);
  EXPECT_NEAR(bench::amortized_memory_per_item(d, 1'000),
              2'500 + 6 * 1'048'576.0 / 66'000, 0.01);
}
