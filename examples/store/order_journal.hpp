// The order book's journal file: each change appended as one JSON line and
// made durable before the book acknowledges it, and the lines of an earlier
// run replayed at start. Without it a restarted store forgets its orders
// and counts from ord_1 again. The line format is in order_record.hpp.
#pragma once

#include "order_book.hpp"

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace store {

/// What replaying a journal found.
struct journal_replay {
  size_t lines = 0; ///< lines applied
  /// A torn last line (a crash mid-write) was dropped and cut off the file.
  bool torn_line_dropped = false;
  size_t torn_bytes = 0; ///< its length, newline included if it had one
  /// Empty on success; otherwise why the journal cannot be trusted.
  std::string error;
};

class order_journal final : public order_log {
public:
  /// Opens (creating) `path` and locks it, so a second store cannot
  /// interleave its lines; nullptr with `error` set when it cannot.
  static std::unique_ptr<order_journal> open(const std::string& path,
                                             std::string& error);
  ~order_journal() override;
  order_journal(const order_journal&) = delete;
  order_journal& operator=(const order_journal&) = delete;

  /// Gives every line of the file to `apply` in order (it returns "" or why
  /// the line does not fit). A last line without its newline, or one that
  /// is not JSON, was torn by a crash: it is dropped and cut off the file.
  /// Any other bad line is an error, and the file is left as it is. Once,
  /// before the first append.
  journal_replay
  replay(const std::function<std::string(std::string_view)>& apply);

  /// Writes `line` and its newline, then fdatasync. Not locked itself: the
  /// order book calls it under its own lock. After a failure the partial
  /// line is cut off and every later append is refused too, because what a
  /// failed fsync left on disk is unknown.
  bool append(const std::string& line) override;

  const std::string& path() const { return path_; }

private:
  order_journal(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  void fail(const std::string& what);

  int fd_;
  std::string path_;
  bool replayed_ = false;
  bool failed_ = false;
  off_t size_bytes_ = 0; ///< the end of the last complete line
};

} // namespace store
