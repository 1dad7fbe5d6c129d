// The benchmark's pure parts: option rules and the report's 3-node ratio.
#include <gtest/gtest.h>

#include "bench_options.hpp"
#include "latency_stats.hpp"
#include "report_table.hpp"
#include "signature_check.hpp"

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

} // namespace
