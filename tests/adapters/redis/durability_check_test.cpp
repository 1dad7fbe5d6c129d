// Goal: the settings that would lose acknowledged payments are named as
// breaking durability (AOF off, fsync not per write, evicting keys under a
// memory limit, a version without XAUTOCLAIM), those that only cost memory
// as advice, and a Redis set up as run.sh sets it up has nothing to say.

#include "adapters/redis/durability_check.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace psp::redis {
namespace {

redis_settings as_run_sh_sets_it() {
  return {{"appendonly", "yes"},
          {"appendfsync", "always"},
          {"maxmemory", "0"},
          {"maxmemory-policy", "noeviction"},
          {"hash-max-listpack-entries", "512"},
          {"hash-max-listpack-value", "1024"}};
}

/// The one finding on `setting`, failing the test when there is not
/// exactly one finding in all.
settings_finding only_finding(const redis_settings& s,
                              const std::string& setting) {
  auto found = judge_redis_settings(s);
  EXPECT_EQ(found.size(), 1u);
  if (found.size() != 1) {
    return {};
  }
  EXPECT_EQ(found[0].setting, setting);
  return found[0];
}

TEST(durability_check, redis_as_run_sh_starts_it_is_fine) {
  EXPECT_TRUE(judge_redis_settings(as_run_sh_sets_it()).empty());
  // A memory limit is fine as long as Redis refuses writes at it.
  auto limited = as_run_sh_sets_it();
  limited["maxmemory"] = "1073741824";
  EXPECT_TRUE(judge_redis_settings(limited).empty());
  // Larger compact encodings than ours only help.
  limited["hash-max-listpack-entries"] = "1024";
  EXPECT_TRUE(judge_redis_settings(limited).empty());
}

TEST(durability_check, no_aof_breaks_durability) {
  auto s = as_run_sh_sets_it();
  s["appendonly"] = "no";
  auto f = only_finding(s, "appendonly");
  EXPECT_TRUE(f.breaks_durability);
  EXPECT_NE(f.text.find("--appendonly yes --appendfsync always"),
            std::string::npos)
    << f.text;
}

TEST(durability_check, fsync_every_second_breaks_durability) {
  for (auto fsync : {"everysec", "no"}) {
    auto s = as_run_sh_sets_it();
    s["appendfsync"] = fsync;
    auto f = only_finding(s, "appendfsync");
    EXPECT_TRUE(f.breaks_durability) << fsync;
    EXPECT_NE(f.text.find(fsync), std::string::npos) << f.text;
  }
}

TEST(durability_check, evicting_keys_under_a_limit_breaks_durability) {
  for (auto policy : {"allkeys-lru", "volatile-ttl", "allkeys-random"}) {
    auto s = as_run_sh_sets_it();
    s["maxmemory"] = "104857600";
    s["maxmemory-policy"] = policy;
    auto f = only_finding(s, "maxmemory-policy");
    EXPECT_TRUE(f.breaks_durability) << policy;
    EXPECT_NE(f.text.find("noeviction"), std::string::npos) << f.text;
  }
  // Without a limit Redis never evicts, whatever the policy says.
  auto unlimited = as_run_sh_sets_it();
  unlimited["maxmemory-policy"] = "allkeys-lru";
  EXPECT_TRUE(judge_redis_settings(unlimited).empty());
}

TEST(durability_check, small_compact_encodings_are_advice_only) {
  auto s = as_run_sh_sets_it();
  s["hash-max-listpack-entries"] = "128"; // Redis's own defaults
  s["hash-max-listpack-value"] = "64";
  auto found = judge_redis_settings(s);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_TRUE(std::none_of(found.begin(), found.end(),
                           [](auto& f) { return f.breaks_durability; }));
}

TEST(durability_check, a_stock_redis_breaks_it_twice_and_missing_names_pass) {
  // Debian's redis-server without flags: snapshots only, no AOF.
  redis_settings stock{{"appendonly", "no"},
                       {"appendfsync", "everysec"},
                       {"maxmemory", "0"},
                       {"maxmemory-policy", "noeviction"}};
  auto found = judge_redis_settings(stock);
  EXPECT_EQ(std::count_if(found.begin(), found.end(),
                          [](auto& f) { return f.breaks_durability; }),
            2);
  // What a Redis does not answer is not judged.
  EXPECT_TRUE(judge_redis_settings({}).empty());
}

TEST(durability_check, a_redis_without_xautoclaim_is_refused) {
  for (auto version : {"6.0.16", "5.0.14"}) {
    auto s = as_run_sh_sets_it();
    s["redis_version"] = version;
    auto f = only_finding(s, "redis_version");
    EXPECT_TRUE(f.breaks_durability) << version;
    EXPECT_NE(f.text.find("XAUTOCLAIM"), std::string::npos) << f.text;
  }
  for (auto version : {"6.2.0", "7.0.15", "7.2.4", "10.0.0", "unstable"}) {
    auto s = as_run_sh_sets_it();
    s["redis_version"] = version; // a form it cannot read is not judged
    EXPECT_TRUE(judge_redis_settings(s).empty()) << version;
  }
}

} // namespace
} // namespace psp::redis
