#include "order_journal.hpp"

#include "examples/common/fd_write.hpp"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

namespace store {

namespace {

using examples::write_all;

std::string errno_text() {
  return std::strerror(errno);
}

bool read_all(int fd, std::string& out) {
  char buf[64 * 1024];
  off_t at = 0;
  for (;;) {
    auto n = ::pread(fd, buf, sizeof(buf), at);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return false;
    }
    if (n == 0) {
      return true;
    }
    out.append(buf, static_cast<size_t>(n));
    at += n;
  }
}

// A new file's directory entry is only durable once its directory is
// synced; without it a machine crash could lose the whole journal.
bool sync_directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "."
                    : slash == 0               ? "/"
                                               : path.substr(0, slash);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

} // namespace

std::unique_ptr<order_journal> order_journal::open(const std::string& path,
                                                   std::string& error) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot open journal " + path + ": " + errno_text();
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = "journal " + path + " is not a regular file";
    ::close(fd);
    return nullptr;
  }
  // Released by the kernel when the process dies, even by kill -9, so a
  // restart finds it free.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    error = errno == EWOULDBLOCK
                ? "journal " + path + " is in use by another example-store"
                : "cannot lock journal " + path + ": " + errno_text();
    ::close(fd);
    return nullptr;
  }
  if (!sync_directory_of(path)) {
    error =
        "cannot sync the directory of journal " + path + ": " + errno_text();
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<order_journal>{new order_journal{fd, path}};
}

order_journal::~order_journal() {
  ::close(fd_);
}

journal_replay order_journal::replay(
    const std::function<std::string(std::string_view)>& apply) {
  journal_replay out;
  std::string text;
  if (!read_all(fd_, text)) {
    out.error = "cannot read journal " + path_ + ": " + errno_text();
    return out;
  }
  size_t pos = 0;
  size_t line_no = 0;
  while (pos < text.size()) {
    ++line_no;
    auto end = text.find('\n', pos);
    auto line_end = end == std::string::npos ? text.size() : end;
    std::string_view line(text.data() + pos, line_end - pos);
    bool last = line_end + 1 >= text.size();
    // Lines are written and synced one at a time: a crash can only tear
    // the last one, and that one was never acknowledged.
    if (end == std::string::npos || (last && !nlohmann::json::accept(line))) {
      out.torn_line_dropped = true;
      out.torn_bytes = text.size() - pos;
      break;
    }
    auto why = apply(line);
    if (!why.empty()) {
      out.error = path_ + " line " + std::to_string(line_no) + ": " + why;
      return out;
    }
    ++out.lines;
    pos = end + 1;
  }
  // Cut off, so the next append starts on a line of its own.
  if (out.torn_line_dropped &&
      (::ftruncate(fd_, static_cast<off_t>(pos)) != 0 ||
       ::fdatasync(fd_) != 0)) {
    out.error = "cannot cut the torn last line off journal " + path_ + ": " +
                errno_text();
    return out;
  }
  size_bytes_ = static_cast<off_t>(pos);
  replayed_ = true;
  return out;
}

bool order_journal::append(const std::string& line) {
  // Before replay the file's end is not known to be a line boundary.
  if (!replayed_ || failed_ || line.find('\n') != std::string::npos) {
    return false;
  }
  std::string bytes;
  bytes.reserve(line.size() + 1);
  bytes += line;
  bytes += '\n';
  if (!write_all(fd_, bytes)) {
    fail("cannot write to");
    return false;
  }
  // The data and the file size, all a replay needs; before the book
  // applies the change and answers for it.
  if (::fdatasync(fd_) != 0) {
    fail("cannot sync");
    return false;
  }
  size_bytes_ += static_cast<off_t>(bytes.size());
  return true;
}

void order_journal::fail(const std::string& what) {
  auto why = errno_text();
  failed_ = true;
  // The change is refused, so its line must not come back at replay.
  bool cut = ::ftruncate(fd_, size_bytes_) == 0 && ::fdatasync(fd_) == 0;
  std::cerr << "example-store: " << what << " journal " << path_ << ": " << why
            << "; taking no more changes until restarted"
            << (cut ? "" : " (and the partial line could not be cut off)")
            << std::endl;
}

} // namespace store
