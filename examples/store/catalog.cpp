#include "catalog.hpp"

#include <cctype>

namespace store {

const std::vector<product>& catalog() {
  static const std::vector<product> products{
      {"tshirt", "Actor Model T-Shirt", "Soft cotton, one message per wash.",
       2000, "usd"},
      {"mug", "Idempotent Mug", "Refill it twice, still one coffee.", 1250,
       "usd"},
      {"stickers", "Ledger Sticker Pack",
       "Debits on the left, credits on the "
       "right.",
       500, "usd"},
  };
  return products;
}

const product* find_product(std::string_view id) {
  for (const auto& p : catalog()) {
    if (p.id == id) {
      return &p;
    }
  }
  return nullptr;
}

std::string format_money(int64_t amount_minor, std::string_view currency) {
  bool negative = amount_minor < 0;
  // Two decimals fits usd and most currencies this example sells in.
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(amount_minor)
                                : static_cast<uint64_t>(amount_minor);
  auto cents = magnitude % 100;
  std::string number = std::to_string(magnitude / 100) + "." +
                       (cents < 10 ? "0" : "") + std::to_string(cents);
  std::string sign = negative ? "-" : "";
  if (currency == "usd") {
    return sign + "$" + number;
  }
  std::string code(currency);
  for (auto& c : code) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return sign + number + " " + code;
}

} // namespace store
