#include "runtime/continuity_mark_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

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
  // One line: "epoch=<epoch> sequence=<n>".
  std::string line;
  std::getline(in, line);
  std::istringstream fields{line};
  std::string epoch_field;
  std::string sequence_field;
  fields >> epoch_field >> sequence_field;
  redis::continuity_mark out;
  const std::string epoch_prefix = "epoch=";
  const std::string sequence_prefix = "sequence=";
  if (epoch_field.rfind(epoch_prefix, 0) == 0
      && sequence_field.rfind(sequence_prefix, 0) == 0) {
    auto epoch = epoch_field.substr(epoch_prefix.size());
    auto digits = sequence_field.substr(sequence_prefix.size());
    bool all_digits = !digits.empty() && digits.size() <= 18
                      && digits.find_first_not_of("0123456789")
                           == std::string::npos;
    if (is_epoch_text(epoch) && all_digits) {
      out.epoch = epoch;
      out.sequence = std::stoll(digits);
      return out;
    }
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
  {
    std::ofstream out{temporary, std::ios::trunc};
    out << "epoch=" << *mark.epoch << " sequence=" << mark.sequence << '\n';
    out.flush();
    if (!out) {
      error = temporary + ": " + std::strerror(errno);
      std::filesystem::remove(temporary, ec);
      return false;
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    error = path + ": " + std::strerror(errno);
    std::filesystem::remove(temporary, ec);
    return false;
  }
  return true;
}

} // namespace psp
