#pragma once

// The currencies the PSP accepts and how their amounts are written. An amount
// is always an integer count of the currency's minor unit; the ISO 4217
// exponent says how many of those make one major unit (2 for USD: 2000 is
// 20.00 USD; 0 for JPY: 1200 is 1200 JPY).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psp {

/// Smallest total of a checkout, in minor units, for every currency. Stripe's
/// real minimums differ per currency (about 0.50 USD, 50 JPY, ...); keeping
/// one number is a deliberate simplification: 50 is Stripe's minimum for USD
/// and for JPY alike, and per-currency minimums are out of scope for now.
constexpr int64_t charge_amount_minor_min = 50;

/// The ISO 4217 exponent of a supported currency (lowercase code, as in
/// Stripe's API), or nullopt when the code is unknown or not supported.
std::optional<int> minor_unit_exponent(std::string_view code);

/// True when `code` (lowercase) is a supported currency.
bool is_supported_currency(std::string_view code);

/// Every supported code, lowercase, in alphabetical order.
const std::vector<std::string_view>& supported_currencies();

/// An amount for people: "20.00 USD", "1200 JPY", "-0.05 EUR". A code that is
/// not in the table is printed with two decimals, the exponent of most
/// currencies, so old data stays readable; the code is upper-cased either way.
std::string format_amount(int64_t amount_minor, std::string_view code);

} // namespace psp
