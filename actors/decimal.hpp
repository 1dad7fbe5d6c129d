#pragma once

// Decimal integers read from text that may hold anything (Redis answers
// TIME, CONFIG and hash fields as strings; settlement files are typed by
// hand): nullopt, never a throw. Header-only, shared by the Redis adapter
// and the reporting logic.

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace psp {

/// The whole of `text` as a decimal integer ("-12" yes; "", "1.5", "12a" no).
inline std::optional<int64_t> parse_integer(std::string_view text) {
  int64_t out = 0;
  auto end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  if (text.empty() || ec != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return out;
}

} // namespace psp
