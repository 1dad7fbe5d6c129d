#include "adapters/http/admin_ids.hpp"

#include <algorithm>

namespace psp::http {

namespace {

/// A decimal that fits 64 unsigned bits, as each part of a stream id must
/// (Redis answers an error for more, which is no missing entry).
bool is_u64_decimal(std::string_view text) {
  constexpr std::string_view max = "18446744073709551615";
  if (text.empty()
      || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return false;
  }
  auto digits = text.substr(std::min(text.find_first_not_of('0'),
                                     text.size() - 1));
  return digits.size() < max.size()
         || (digits.size() == max.size() && digits <= max);
}

} // namespace

bool is_object_id(std::string_view id) {
  return !id.empty() && id.size() <= 255
         && id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "abcdefghijklmnopqrstuvwxyz0123456789_")
              == std::string_view::npos;
}

bool is_stream_entry_id(std::string_view id) {
  auto dash = id.find('-');
  return dash != std::string_view::npos && is_u64_decimal(id.substr(0, dash))
         && is_u64_decimal(id.substr(dash + 1));
}

} // namespace psp::http
