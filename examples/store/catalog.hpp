// The shop's fixed product list: three things with a price in USD cents.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace store {

/// One product on the shelf. Prices are integer minor units, never floats.
struct product {
  std::string id;
  std::string name;
  std::string description;
  int64_t unit_amount_minor = 0;
  std::string currency; ///< ISO 4217, lower case as the PSP expects
};

/// At most this many of one product per order; keeps amounts small and sane.
constexpr int64_t quantity_max = 10;

/// All products in display order.
const std::vector<product>& catalog();

/// The product with this id, or nullptr.
const product* find_product(std::string_view id);

/// "$20.00" for 2000 minor units of usd; other currencies as "20.00 EUR".
std::string format_money(int64_t amount_minor, std::string_view currency);

} // namespace store
