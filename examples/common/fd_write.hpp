// Writing a whole buffer to a file descriptor, for the examples' journals
// (the card network simulator's and the store's), which append lines with
// write(2) so that they control exactly what reaches the file.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <string_view>

namespace examples {

/// Writes all of `bytes`, retrying after EINTR and short writes; false on
/// any other failure (some bytes may then have been written).
inline bool write_all(int fd, std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

} // namespace examples
