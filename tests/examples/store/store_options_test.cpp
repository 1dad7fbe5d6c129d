// Checks example-store's command line: the documented flags, the API key
// from the environment, and a clear error for each bad input.
#include "store_options.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace store;

namespace {

options_result parse(std::vector<const char*> args,
                     const char* env_key = nullptr) {
  args.insert(args.begin(), "example-store");
  return parse_options(static_cast<int>(args.size()), args.data(), env_key);
}

} // namespace

TEST(store_options, parses_the_documented_flags) {
  auto r =
      parse({"--port", "0", "--psp-url", "http://127.0.0.1:8080/", "--api-key",
             "sk_test_1", "--public-url=http://shop:9/", "--host", "0.0.0.0"});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->port, 0);
  EXPECT_EQ(r.options->psp_url, "http://127.0.0.1:8080");
  EXPECT_EQ(r.options->api_key, "sk_test_1");
  EXPECT_EQ(r.options->public_url, "http://shop:9");
  EXPECT_EQ(r.options->host, "0.0.0.0");
  EXPECT_EQ(r.options->journal_path, "");
}

TEST(store_options, journal_names_a_file) {
  auto r = parse({"--port", "0", "--psp-url", "http://psp:8080", "--api-key",
                  "k", "--journal", "run/data/store.journal"});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->journal_path, "run/data/store.journal");
  auto with_equals = parse({"--port", "0", "--psp-url", "http://psp:8080",
                            "--api-key", "k", "--journal=/tmp/s.journal"});
  ASSERT_TRUE(with_equals.options) << with_equals.error;
  EXPECT_EQ(with_equals.options->journal_path, "/tmp/s.journal");
  auto empty = parse({"--port", "0", "--psp-url", "http://psp:8080",
                      "--api-key", "k", "--journal="});
  EXPECT_FALSE(empty.options);
  EXPECT_NE(empty.error.find("--journal"), std::string::npos) << empty.error;
  auto missing = parse({"--port", "0", "--psp-url", "http://psp:8080",
                        "--api-key", "k", "--journal"});
  EXPECT_FALSE(missing.options);
  EXPECT_NE(usage().find("--journal FILE"), std::string::npos);
}

TEST(store_options, api_key_may_come_from_the_environment) {
  auto r =
      parse({"--port", "8081", "--psp-url", "http://psp:8080"}, "sk_test_env");
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->api_key, "sk_test_env");
  EXPECT_EQ(r.options->host, "127.0.0.1");
  auto flag_wins = parse({"--port", "1", "--psp-url", "http://psp:8080",
                          "--api-key", "sk_test_flag"},
                         "sk_test_env");
  EXPECT_EQ(flag_wins.options->api_key, "sk_test_flag");
}

TEST(store_options, refuses_bad_input) {
  const std::vector<std::vector<const char*>> bad{
      {},
      {"--psp-url", "http://psp:8080", "--api-key", "k"},
      {"--port", "1", "--api-key", "k"},
      {"--port", "1", "--psp-url", "http://psp:8080"},
      {"--port", "65536", "--psp-url", "http://psp:8080", "--api-key", "k"},
      {"--port", "x", "--psp-url", "http://psp:8080", "--api-key", "k"},
      {"--port", "1", "--psp-url", "psp:8080", "--api-key", "k"},
      {"--port", "1", "--psp-url", "http://psp:8080/v1", "--api-key", "k"},
      {"--port", "1", "--psp-url", "http://psp:8080", "--api-key", "k",
       "--public-url", "ftp://x"},
      {"--port", "1", "--psp-url", "http://psp:8080", "--api-key", "k",
       "--verbose"},
      {"--port", "1", "--psp-url", "http://psp:8080", "--api-key"},
  };
  for (const auto& args : bad) {
    auto r = parse(args);
    EXPECT_FALSE(r.options);
    EXPECT_FALSE(r.error.empty());
  }
  EXPECT_TRUE(parse({"--help"}).help);
}
