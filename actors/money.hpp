#pragma once

// Money is an integer count of a currency's minor unit; never floating point.

#include <cstdint>
#include <optional>

namespace psp {

/// A merchant's processing fee: basis points of the amount plus a fixed part.
struct fee_schedule {
  int32_t percent_bps = 290;    ///< 290 bps = 2.9 %
  int64_t fixed_minor = 30;     ///< added per successful payment
};

/// Fee for a successful payment of `amount_minor`, rounded half up to the
/// minor unit and capped at the amount so a merchant is never owed a negative
/// net. Returns nullopt when the arithmetic would overflow.
std::optional<int64_t> fee_minor(int64_t amount_minor, const fee_schedule& fee);

/// Checked addition for ledger sums.
std::optional<int64_t> checked_add(int64_t a, int64_t b);

/// Largest amount accepted anywhere in the API (Stripe's limit: 8 digits).
constexpr int64_t amount_minor_max = 99'999'999;

} // namespace psp
