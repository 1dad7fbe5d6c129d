// Goal: the continuity mark a node keeps on its disk (decision 67) reads
// back as written, replaces the one before, and a file that is not a mark
// is reported rather than taken for one.

#include "runtime/continuity_mark_file.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace psp {
namespace {

namespace fs = std::filesystem;

class continuity_mark_file : public ::testing::Test {
protected:
  void SetUp() override {
    char pattern[] = "/tmp/psp-mark-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST_F(continuity_mark_file, none_kept_is_no_mark_and_no_error) {
  std::string error;
  EXPECT_EQ(read_continuity_mark(continuity_mark_path(dir_), error),
            std::nullopt);
  EXPECT_EQ(error, "");
}

TEST_F(continuity_mark_file, a_mark_reads_back_and_the_next_replaces_it) {
  // The data dir need not exist yet: the node creates it.
  auto path = continuity_mark_path(dir_ + "/data");
  std::string error;
  ASSERT_TRUE(write_continuity_mark(
    path, redis::continuity_mark{"epoch_a1B2", 41, 1'796'000'000'000'000},
    error))
    << error;
  ASSERT_TRUE(write_continuity_mark(
    path,
    redis::continuity_mark{"epoch_a1B2", 9'000'000'000, 1'796'000'000'123'456},
    error))
    << error;
  auto kept = read_continuity_mark(path, error);
  ASSERT_TRUE(kept) << error;
  EXPECT_EQ(kept->epoch, "epoch_a1B2");
  EXPECT_EQ(kept->sequence, 9'000'000'000);
  EXPECT_EQ(kept->redis_time_us, 1'796'000'000'123'456);
  // Nothing of the writes is left beside it.
  size_t files = 0;
  for ([[maybe_unused]] auto& entry : fs::directory_iterator{dir_ + "/data"}) {
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(continuity_mark_file, a_file_that_is_not_a_mark_is_reported) {
  auto path = continuity_mark_path(dir_);
  for (std::string text :
       {"", "epoch=epoch_a\n", "epoch=epoch_a sequence=4\n",
        "epoch=epoch_a sequence=-3 time_us=1\n",
        "epoch=epoch_a sequence=12x time_us=1\n",
        "epoch= sequence=4 time_us=1\n", "epoch=a;b sequence=4 time_us=1\n",
        "sequence=4 epoch=epoch_a time_us=1\n",
        "epoch=epoch_a sequence=4 time_us=1 more=2\n"}) {
    std::ofstream{path, std::ios::trunc} << text;
    std::string error;
    EXPECT_EQ(read_continuity_mark(path, error), std::nullopt) << text;
    EXPECT_NE(error.find("not a continuity mark"), std::string::npos)
      << text << ": " << error;
  }
}

TEST_F(continuity_mark_file, a_mark_without_an_epoch_is_not_written) {
  std::string error;
  EXPECT_FALSE(write_continuity_mark(continuity_mark_path(dir_),
                                     redis::continuity_mark{}, error));
  EXPECT_FALSE(error.empty());
}

} // namespace
} // namespace psp
