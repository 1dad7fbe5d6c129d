// Checks the currency table (supported codes and their ISO 4217 exponents)
// and that amounts are printed with the right number of decimals.

#include "actors/currency.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>

using namespace psp;

TEST(currency, two_decimal_currencies_have_exponent_two) {
  for (auto code : {"usd", "eur", "gbp", "chf", "cad", "aud", "nzd",
                    "sek", "nok", "dkk", "pln", "czk", "huf", "ron",
                    "bgn", "inr", "sgd", "hkd", "mxn", "brl", "zar"}) {
    EXPECT_EQ(minor_unit_exponent(code), 2) << code;
    EXPECT_TRUE(is_supported_currency(code)) << code;
  }
}

TEST(currency, zero_decimal_currencies_have_exponent_zero) {
  for (auto code : {"jpy", "krw", "clp", "vnd", "pyg"}) {
    EXPECT_EQ(minor_unit_exponent(code), 0) << code;
  }
}

TEST(currency, unknown_or_badly_spelled_codes_are_rejected) {
  for (auto code : {"", "us", "usdd", "USD", "Usd", "xyz", "abc", "isk", "kwd",
                    "us ", "u$d", "eur\n"}) {
    EXPECT_EQ(minor_unit_exponent(code), std::nullopt) << code;
    EXPECT_FALSE(is_supported_currency(code)) << code;
  }
}

TEST(currency, supported_list_is_sorted_lowercase_and_complete) {
  auto& codes = supported_currencies();
  ASSERT_GE(codes.size(), 26u);
  EXPECT_TRUE(std::is_sorted(codes.begin(), codes.end()));
  EXPECT_EQ(std::adjacent_find(codes.begin(), codes.end()), codes.end());
  for (auto code : codes) {
    ASSERT_EQ(code.size(), 3u);
    for (char c : code) {
      EXPECT_TRUE(c >= 'a' && c <= 'z') << code;
    }
    EXPECT_TRUE(minor_unit_exponent(code).has_value()) << code;
  }
}

TEST(currency, formats_two_decimal_amounts) {
  EXPECT_EQ(format_amount(2000, "usd"), "20.00 USD");
  EXPECT_EQ(format_amount(2005, "eur"), "20.05 EUR");
  EXPECT_EQ(format_amount(5, "gbp"), "0.05 GBP");
  EXPECT_EQ(format_amount(50, "chf"), "0.50 CHF");
  EXPECT_EQ(format_amount(0, "usd"), "0.00 USD");
  EXPECT_EQ(format_amount(99'999'999, "usd"), "999999.99 USD");
}

TEST(currency, formats_zero_decimal_amounts_without_a_point) {
  EXPECT_EQ(format_amount(1200, "jpy"), "1200 JPY");
  EXPECT_EQ(format_amount(50, "krw"), "50 KRW");
  EXPECT_EQ(format_amount(0, "jpy"), "0 JPY");
  EXPECT_EQ(format_amount(7, "clp"), "7 CLP");
}

TEST(currency, negative_amounts_get_a_leading_minus) {
  EXPECT_EQ(format_amount(-2000, "usd"), "-20.00 USD");
  EXPECT_EQ(format_amount(-5, "usd"), "-0.05 USD");
  EXPECT_EQ(format_amount(-1200, "jpy"), "-1200 JPY");
  EXPECT_EQ(format_amount(std::numeric_limits<int64_t>::min(), "jpy"),
            "-9223372036854775808 JPY");
  EXPECT_EQ(format_amount(std::numeric_limits<int64_t>::min(), "usd"),
            "-92233720368547758.08 USD");
  EXPECT_EQ(format_amount(std::numeric_limits<int64_t>::max(), "usd"),
            "92233720368547758.07 USD");
}

TEST(currency, unknown_codes_are_printed_with_two_decimals) {
  EXPECT_EQ(format_amount(1234, "xyz"), "12.34 XYZ");
  EXPECT_EQ(format_amount(-1, "xyz"), "-0.01 XYZ");
  EXPECT_EQ(format_amount(1, ""), "0.01 ");
}

TEST(currency, one_minimum_for_every_currency) {
  EXPECT_EQ(charge_amount_minor_min, 50);
}
