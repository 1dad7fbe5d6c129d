#include "actors/currency.hpp"

#include <algorithm>
#include <array>

namespace psp {

namespace {

struct currency_info {
  std::string_view code;
  int exponent;
};

// Card currencies Stripe supports whose minor unit is certain, with the ISO
// 4217 exponent. HUF is two-decimal, as in ISO 4217 and in Stripe's charges.
// Left out on purpose: currencies where Stripe's API differs from ISO 4217
// (ISK, UGX: zero-decimal in ISO but written with two decimals in Stripe's
// API; TWD), and the three-decimal ones (BHD, JOD, KWD, OMR, TND), which
// Stripe only accepts with a last digit of 0. Sorted by code.
constexpr std::array<currency_info, 32> currency_table{{
    {"aed", 2}, {"aud", 2}, {"bgn", 2}, {"brl", 2}, {"cad", 2}, {"chf", 2},
    {"clp", 0}, {"cny", 2}, {"czk", 2}, {"dkk", 2}, {"eur", 2}, {"gbp", 2},
    {"hkd", 2}, {"huf", 2}, {"ils", 2}, {"inr", 2}, {"jpy", 0}, {"krw", 0},
    {"mxn", 2}, {"myr", 2}, {"nok", 2}, {"nzd", 2}, {"php", 2}, {"pln", 2},
    {"pyg", 0}, {"ron", 2}, {"sek", 2}, {"sgd", 2}, {"thb", 2}, {"usd", 2},
    {"vnd", 0}, {"zar", 2},
}};

/// find() is a binary search: the table must stay sorted and free of
/// duplicates.
constexpr bool sorted_by_code() {
  for (size_t i = 1; i < currency_table.size(); ++i) {
    if (!(currency_table[i - 1].code < currency_table[i].code)) {
      return false;
    }
  }
  return true;
}
static_assert(sorted_by_code(), "currency_table must be sorted by code");

/// Exponent used by format_amount for codes outside the table.
constexpr int fallback_exponent = 2;

const currency_info* find(std::string_view code) {
  auto i = std::lower_bound(currency_table.begin(), currency_table.end(), code,
                            [](const currency_info& c, std::string_view key) {
                              return c.code < key;
                            });
  if (i == currency_table.end() || i->code != code) {
    return nullptr;
  }
  return &*i;
}

std::string upper_ascii(std::string_view code) {
  std::string out;
  out.reserve(code.size());
  for (char c : code) {
    out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return out;
}

} // namespace

std::optional<int> minor_unit_exponent(std::string_view code) {
  if (auto* info = find(code)) {
    return info->exponent;
  }
  return std::nullopt;
}

bool is_supported_currency(std::string_view code) {
  return find(code) != nullptr;
}

const std::vector<std::string_view>& supported_currencies() {
  static const std::vector<std::string_view> codes = [] {
    std::vector<std::string_view> out;
    for (auto& c : currency_table) {
      out.push_back(c.code);
    }
    return out;
  }();
  return codes;
}

std::string format_amount(int64_t amount_minor, std::string_view code) {
  auto exponent = minor_unit_exponent(code).value_or(fallback_exponent);
  // The magnitude as unsigned, so that INT64_MIN has one too.
  uint64_t magnitude = amount_minor < 0
                           ? uint64_t{0} - static_cast<uint64_t>(amount_minor)
                           : static_cast<uint64_t>(amount_minor);
  std::string digits = std::to_string(magnitude);
  if (exponent > 0) {
    auto width = static_cast<size_t>(exponent) + 1;
    if (digits.size() < width) {
      digits.insert(0, width - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(exponent), 1, '.');
  }
  std::string out = amount_minor < 0 ? "-" : "";
  out += digits;
  out += ' ';
  out += upper_ascii(code);
  return out;
}

} // namespace psp
