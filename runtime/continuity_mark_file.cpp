#include "runtime/continuity_mark_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

namespace psp {

namespace {

constexpr const char* mark_file_name = "redis-continuity.mark";

bool is_epoch_text(const std::string& text) {
  if (text.empty() || text.size() > 128) {
    return false;
  }
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

/// The text after `prefix`, when `field` starts with it.
std::optional<std::string> field_value(const std::string& field,
                                       const std::string& prefix) {
  if (field.rfind(prefix, 0) != 0) {
    return std::nullopt;
  }
  return field.substr(prefix.size());
}

/// A decimal of at most 18 digits after `prefix`.
std::optional<int64_t> number_value(const std::string& field,
                                    const std::string& prefix) {
  auto digits = field_value(field, prefix);
  if (!digits || digits->empty() || digits->size() > 18
      || digits->find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoll(*digits);
}

} // namespace

std::string continuity_mark_path(const std::string& data_dir) {
  return (std::filesystem::path{data_dir} / mark_file_name).string();
}

std::optional<redis::continuity_mark>
read_continuity_mark(const std::string& path, std::string& error) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) {
    return std::nullopt; // a node that never ran with this data dir
  }
  std::ifstream in{path};
  if (!in) {
    error = path + ": cannot be read";
    return std::nullopt;
  }
  // One line: "epoch=<epoch> sequence=<n> time_us=<Redis's TIME>".
  std::string line;
  std::getline(in, line);
  std::istringstream fields{line};
  std::string epoch_field;
  std::string sequence_field;
  std::string time_field;
  std::string extra;
  fields >> epoch_field >> sequence_field >> time_field >> extra;
  auto epoch = field_value(epoch_field, "epoch=");
  auto sequence = number_value(sequence_field, "sequence=");
  auto time_us = number_value(time_field, "time_us=");
  if (epoch && is_epoch_text(*epoch) && sequence && time_us && extra.empty()) {
    redis::continuity_mark out;
    out.epoch = *epoch;
    out.sequence = *sequence;
    out.redis_time_us = *time_us;
    return out;
  }
  error = path + ": not a continuity mark";
  return std::nullopt;
}

bool write_continuity_mark(const std::string& path,
                           const redis::continuity_mark& mark,
                           std::string& error) {
  if (!mark.epoch) {
    error = "no epoch to keep";
    return false;
  }
  std::error_code ec;
  std::filesystem::create_directories(
    std::filesystem::path{path}.parent_path(), ec);
  // A name of this process's own: the nodes sharing a data dir never write
  // one another's half-written file.
  auto temporary = path + ".tmp." + std::to_string(::getpid());
  auto text = "epoch=" + *mark.epoch + " sequence="
              + std::to_string(mark.sequence)
              + " time_us=" + std::to_string(mark.redis_time_us) + "\n";
  // fsync before the rename: after a host crash the file is the old mark or
  // the new one, never an empty one (which would read as no mark at all).
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  0600);
  bool written = fd >= 0
                 && ::write(fd, text.data(), text.size())
                      == static_cast<ssize_t>(text.size())
                 && ::fsync(fd) == 0;
  if (!written) {
    error = temporary + ": " + std::strerror(errno);
  }
  if (fd >= 0) {
    ::close(fd);
  }
  if (!written) {
    std::filesystem::remove(temporary, ec);
    return false;
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    error = path + ": " + std::strerror(errno);
    std::filesystem::remove(temporary, ec);
    return false;
  }
  return true;
}

} // namespace psp
