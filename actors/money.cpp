#include "actors/money.hpp"

#include <limits>

namespace psp {

std::optional<int64_t> checked_add(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) {
    return std::nullopt;
  }
  return out;
}

std::optional<int64_t> fee_minor(int64_t amount_minor,
                                 const fee_schedule& fee) {
  if (amount_minor < 0 || fee.percent_bps < 0 || fee.fixed_minor < 0) {
    return std::nullopt;
  }
  int64_t scaled = 0;
  if (__builtin_mul_overflow(amount_minor, int64_t{fee.percent_bps},
                             &scaled)) {
    return std::nullopt;
  }
  // Half up: add half of the divisor before the integer division.
  int64_t percent_part = (scaled + 5'000) / 10'000;
  auto total = checked_add(percent_part, fee.fixed_minor);
  if (!total) {
    return std::nullopt;
  }
  return *total < amount_minor ? *total : amount_minor;
}

} // namespace psp
