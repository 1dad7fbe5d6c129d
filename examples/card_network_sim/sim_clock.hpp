#pragma once

// The wall clock every record's timestamp comes from, in Unix seconds (the
// unit of `created` and of the settlement window).

#include <cstdint>
#include <ctime>

namespace psp::sim {

inline int64_t now_s() {
  return static_cast<int64_t>(std::time(nullptr));
}

} // namespace psp::sim
