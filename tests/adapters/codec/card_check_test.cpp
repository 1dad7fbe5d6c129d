// Checks every card validation rule: number, brand, expiry and CVC, with
// all field errors reported together and no error text echoing the number.

#include "adapters/codec/card_check.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

using namespace psp::codec;

namespace {

constexpr int now_year = 2025;
constexpr int now_month = 6;

card_fields pass(const card_input& in, int year = now_year,
                 int month = now_month) {
  auto result = check_card(in, year, month);
  if (auto* errors = std::get_if<std::vector<card_error>>(&result)) {
    for (const auto& e : *errors) {
      ADD_FAILURE() << e.field << ": " << e.code << " (" << e.message << ")";
    }
    return card_fields{};
  }
  return std::get<card_fields>(result);
}

std::vector<card_error> reject(const card_input& in, int year = now_year,
                               int month = now_month) {
  auto result = check_card(in, year, month);
  if (std::holds_alternative<card_fields>(result)) {
    ADD_FAILURE() << "accepted exp '" << in.exp << "' cvc '" << in.cvc << "'";
    return {};
  }
  auto errors = std::get<std::vector<card_error>>(result);
  auto digits = digits_only(in.number);
  for (const auto& e : errors) {
    EXPECT_FALSE(e.message.empty());
    if (digits.size() >= 4) {
      EXPECT_EQ(e.message.find(digits), std::string::npos) << e.message;
      EXPECT_EQ(e.message.find(digits.substr(digits.size() - 4)),
                std::string::npos)
          << e.message;
    }
  }
  return errors;
}

/// The single error expected for a field.
card_error single(const std::vector<card_error>& errors) {
  EXPECT_EQ(errors.size(), 1u);
  return errors.empty() ? card_error{} : errors.front();
}

card_input visa_with_exp(std::string exp) {
  return card_input{"4242424242424242", std::move(exp), "123"};
}

card_input visa_with_cvc(std::string cvc) {
  return card_input{"4242424242424242", "12/30", std::move(cvc)};
}

} // namespace

// -- helpers ------------------------------------------------------------------

TEST(card_check, brand_names) {
  EXPECT_EQ(to_string(card_brand::visa), "visa");
  EXPECT_EQ(to_string(card_brand::mastercard), "mastercard");
  EXPECT_EQ(to_string(card_brand::amex), "amex");
  EXPECT_EQ(to_string(card_brand::discover), "discover");
  EXPECT_EQ(to_string(card_brand::diners), "diners");
  EXPECT_EQ(to_string(card_brand::jcb), "jcb");
  EXPECT_EQ(to_string(card_brand::unionpay), "unionpay");
  EXPECT_EQ(to_string(card_brand::unknown), "unknown");
}

TEST(card_check, digits_only_strips_spaces_and_dashes) {
  EXPECT_EQ(digits_only("4242 4242-4242 4242"), "4242424242424242");
  EXPECT_EQ(digits_only(" 42-42 "), "4242");
  EXPECT_EQ(digits_only(""), "");
  EXPECT_EQ(digits_only(" - "), "");
}

TEST(card_check, digits_only_rejects_other_characters) {
  EXPECT_EQ(digits_only("4242a4242"), "");
  EXPECT_EQ(digits_only("4242.4242"), "");
  EXPECT_EQ(digits_only("+4242"), "");
  EXPECT_EQ(digits_only("4242\xC2"), ""); // a cut UTF-8 sequence
  EXPECT_EQ(digits_only("4242\xEF\xBC\x9A"), ""); // full-width colon
  EXPECT_EQ(digits_only("٤٢"), ""); // Arabic-Indic digits: not on a card
}

// What a shopper pastes from a document or types on a CJK keyboard.
TEST(card_check, digits_only_reads_pasted_spaces_and_full_width_digits) {
  EXPECT_EQ(digits_only("4242\t4242"), "42424242");
  // (A hex escape takes every hex digit after it: the literal is split.)
  EXPECT_EQ(digits_only("4242\xC2\xA0" "4242\xE2\x80\x87" "4242\xE2\x80\xAF"
                        "42\xE2\x80\x89" "42"),
            "4242424242424242");
  EXPECT_EQ(digits_only("４２４２ ４２"), "424242");
  // The ideographic space a CJK keyboard types between full-width digits,
  // a zero-width space, a byte order mark, a full-width hyphen.
  EXPECT_EQ(digits_only("４２\xE3\x80\x80" "４２\xE2\x80\x8B" "42\xEF\xBB\xBF"
                        "42\xEF\xBC\x8D" "42"),
            "4242424242");
}

TEST(card_check, luhn) {
  EXPECT_TRUE(luhn_valid("79927398713"));
  EXPECT_TRUE(luhn_valid("4242424242424242"));
  EXPECT_TRUE(luhn_valid("0"));
  EXPECT_FALSE(luhn_valid("79927398710"));
  EXPECT_FALSE(luhn_valid("4242424242424241"));
  EXPECT_FALSE(luhn_valid("4242424242424224")); // swapped digits
  EXPECT_FALSE(luhn_valid(""));
  EXPECT_FALSE(luhn_valid("4242 4242 4242 4242"));
  EXPECT_FALSE(luhn_valid("abc"));
}

TEST(card_check, detect_brand_by_prefix) {
  EXPECT_EQ(detect_brand("4242424242424242"), card_brand::visa);
  EXPECT_EQ(detect_brand("5555555555554444"), card_brand::mastercard);
  EXPECT_EQ(detect_brand("5105105105105100"), card_brand::mastercard);
  EXPECT_EQ(detect_brand("2223003122003222"), card_brand::mastercard);
  EXPECT_EQ(detect_brand("2720990000000000"), card_brand::mastercard);
  EXPECT_EQ(detect_brand("378282246310005"), card_brand::amex);
  EXPECT_EQ(detect_brand("371449635398431"), card_brand::amex);
  EXPECT_EQ(detect_brand("6011111111111117"), card_brand::discover);
  EXPECT_EQ(detect_brand("6445644564456445"), card_brand::discover);
  EXPECT_EQ(detect_brand("6500000000000002"), card_brand::discover);
  EXPECT_EQ(detect_brand("3056930009020004"), card_brand::diners);
  EXPECT_EQ(detect_brand("36227206271667"), card_brand::diners);
  EXPECT_EQ(detect_brand("3566002020360505"), card_brand::jcb);
  EXPECT_EQ(detect_brand("6200000000000005"), card_brand::unionpay);
  EXPECT_EQ(detect_brand("2220990000000000"), card_brand::unknown);
  EXPECT_EQ(detect_brand("2721000000000000"), card_brand::unknown);
  EXPECT_EQ(detect_brand("5600000000000000"), card_brand::unknown);
  EXPECT_EQ(detect_brand("9999999999999995"), card_brand::unknown);
  EXPECT_EQ(detect_brand(""), card_brand::unknown);
  EXPECT_EQ(detect_brand("42"), card_brand::unknown);
  EXPECT_EQ(detect_brand("4242-4242"), card_brand::unknown);
}

// -- accepted cards -----------------------------------------------------------

TEST(card_check, stripe_test_cards_pass_with_the_right_brand) {
  struct row {
    const char* number;
    card_brand brand;
  };
  for (auto r : {row{"4242424242424242", card_brand::visa},
                 row{"5555555555554444", card_brand::mastercard},
                 row{"4000000000000002", card_brand::visa},
                 row{"4000000000009995", card_brand::visa},
                 row{"4000000000000069", card_brand::visa},
                 row{"4000000000000127", card_brand::visa},
                 row{"4000000000000119", card_brand::visa},
                 row{"2223003122003222", card_brand::mastercard},
                 row{"6011111111111117", card_brand::discover},
                 row{"3056930009020004", card_brand::diners},
                 row{"3566002020360505", card_brand::jcb},
                 row{"6200000000000005", card_brand::unionpay}}) {
    auto out = pass({r.number, "12/34", "123"});
    EXPECT_EQ(out.pan, r.number);
    EXPECT_EQ(out.brand, r.brand) << r.number;
    EXPECT_EQ(out.last4, std::string(r.number).substr(12));
    EXPECT_EQ(out.exp_month, 12);
    EXPECT_EQ(out.exp_year, 2034);
    EXPECT_EQ(out.cvc, "123");
  }
  auto amex = pass({"378282246310005", "12/34", "1234"});
  EXPECT_EQ(amex.brand, card_brand::amex);
  EXPECT_EQ(amex.last4, "0005");
  EXPECT_EQ(amex.cvc, "1234");
}

TEST(card_check, number_may_contain_spaces_and_dashes) {
  auto out = pass({"4242 4242 4242 4242", "12/34", "123"});
  EXPECT_EQ(out.pan, "4242424242424242");
  out = pass({"3782-822463-10005", "12/34", "1234"});
  EXPECT_EQ(out.pan, "378282246310005");
}

TEST(card_check, number_length_bounds_are_12_and_19) {
  EXPECT_EQ(pass({"900000000001", "12/34", "123"}).pan.size(), 12u);
  EXPECT_EQ(pass({"4242424242424242428", "12/34", "123"}).pan.size(), 19u);
}

// Luhn-valid numbers whose length their brand never issues: one digit too
// many or too few is a typing slip the network would only decline.
TEST(card_check, a_known_brand_has_its_own_lengths) {
  EXPECT_EQ(pass({"4222222222222", "12/34", "123"}).brand, card_brand::visa);
  EXPECT_EQ(pass({"36227206271667", "12/34", "123"}).brand,
            card_brand::diners);
  for (auto number : {"400000000002", "400000000000006", "40000000000000006",
                      "555500000000008", "55550000000000008",
                      "3700000000000007", "601100000000001",
                      "3600000000004", "356600000000007"}) {
    bool amex = std::string_view{number}.substr(0, 2) == "37";
    auto e = single(reject({number, "12/34", amex ? "1234" : "123"}));
    EXPECT_EQ(e.field, "number") << number;
    EXPECT_EQ(e.code, "invalid_number") << number;
  }
}

TEST(card_check, expiry_formats) {
  struct row {
    const char* exp;
    int month;
    int year;
  };
  for (auto r : {row{"12/25", 12, 2025}, row{"12 / 2025", 12, 2025},
                 row{"1225", 12, 2025}, row{"122025", 12, 2025},
                 row{"1/26", 1, 2026}, row{"01/26", 1, 2026},
                 row{" 07 / 27 ", 7, 2027}, row{"07/2027", 7, 2027}}) {
    auto out = pass(visa_with_exp(r.exp));
    EXPECT_EQ(out.exp_month, r.month) << r.exp;
    EXPECT_EQ(out.exp_year, r.year) << r.exp;
  }
}

TEST(card_check, expiry_window_is_this_month_to_20_years_ahead) {
  EXPECT_EQ(pass(visa_with_exp("06/25")).exp_month, 6);     // this month
  EXPECT_EQ(pass(visa_with_exp("06/2045")).exp_year, 2045); // exactly 20 years
  EXPECT_EQ(pass(visa_with_exp("12/25"), 2025, 12).exp_month, 12);
}

TEST(card_check, two_digit_years_roll_into_the_next_century) {
  auto out = pass(visa_with_exp("01/05"), 2095, 1);
  EXPECT_EQ(out.exp_year, 2105);
  auto past = single(reject(visa_with_exp("01/90"), 2095, 1));
  EXPECT_EQ(past.code, "invalid_expiry_year");
}

// -- rejections ---------------------------------------------------------------

TEST(card_check, rejects_bad_numbers) {
  for (auto number :
       {"42424242424", "11111111115", "42424242424242424242", "",
        "4242 4242 4242 424x", "4242.4242.4242.4242", "------------",
        "0000 0000 0000 000a"}) {
    auto e = single(reject({number, "12/34", "123"}));
    EXPECT_EQ(e.field, "number") << number;
    EXPECT_EQ(e.code, "invalid_number") << number;
    EXPECT_EQ(e.message, "Your card number is invalid.");
  }
  // Card-shaped but failing the Luhn check: Stripe's incorrect_number.
  for (auto number : {"4242424242424241", "4242 4242 4242 4241",
                      "5555555555554443"}) {
    auto e = single(reject({number, "12/34", "123"}));
    EXPECT_EQ(e.field, "number") << number;
    EXPECT_EQ(e.code, "incorrect_number") << number;
    EXPECT_EQ(e.message, "Your card number is incorrect.");
  }
}

TEST(card_check, rejects_bad_months) {
  for (auto exp : {"00/30", "13/30", "0/30", "99/30", "123/30", "/30", "ab/30",
                   "", "abc", "12", "1", "12-30", "1330", "-1/30"}) {
    auto e = single(reject(visa_with_exp(exp)));
    EXPECT_EQ(e.field, "exp") << exp;
    EXPECT_EQ(e.code, "invalid_expiry_month") << exp;
  }
}

TEST(card_check, rejects_unreadable_years) {
  for (auto exp : {"12/", "12/3", "12/203", "12/20301", "12/ab", "12/3a",
                   "12/-1", "12/30/30"}) {
    auto e = single(reject(visa_with_exp(exp)));
    EXPECT_EQ(e.field, "exp") << exp;
    EXPECT_EQ(e.code, "invalid_expiry_year") << exp;
  }
}

TEST(card_check, rejects_past_expiry_dates) {
  for (auto exp : {"05/25", "05/2025", "12/24", "0525", "01/2000", "12/1999"}) {
    auto e = single(reject(visa_with_exp(exp)));
    EXPECT_EQ(e.field, "exp") << exp;
    EXPECT_EQ(e.code, "invalid_expiry_year") << exp;
    EXPECT_EQ(e.message, "Your card's expiration date is in the past.") << exp;
  }
}

TEST(card_check, rejects_expiry_more_than_20_years_ahead) {
  for (auto exp : {"07/2045", "07/45", "01/2046", "12/99", "01/9999"}) {
    auto e = single(reject(visa_with_exp(exp)));
    EXPECT_EQ(e.code, "invalid_expiry_year") << exp;
    EXPECT_NE(e.message, "Your card's expiration date is in the past.");
  }
}

TEST(card_check, cvc_is_three_digits_or_four_for_amex) {
  EXPECT_EQ(pass(visa_with_cvc("000")).cvc, "000");
  EXPECT_EQ(pass(visa_with_cvc(" 123 ")).cvc, "123");
  for (auto cvc : {"", "12", "1234", "12a", "1 3", "-12", "12345"}) {
    auto e = single(reject(visa_with_cvc(cvc)));
    EXPECT_EQ(e.field, "cvc") << cvc;
    EXPECT_EQ(e.code, "invalid_cvc") << cvc;
  }
  for (auto cvc : {"123", "12345", "", "12a4"}) {
    auto e = single(reject({"378282246310005", "12/34", cvc}));
    EXPECT_EQ(e.code, "invalid_cvc") << cvc;
  }
}

TEST(card_check, reports_all_field_errors_at_once) {
  auto errors = reject({"4242424242424241", "13/30", "12"});
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].field, "number");
  EXPECT_EQ(errors[0].code, "incorrect_number");
  EXPECT_EQ(errors[1].field, "exp");
  EXPECT_EQ(errors[1].code, "invalid_expiry_month");
  EXPECT_EQ(errors[2].field, "cvc");
  EXPECT_EQ(errors[2].code, "invalid_cvc");

  errors = reject({"4242424242424241", "12/20", "123"});
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].field, "number");
  EXPECT_EQ(errors[1].code, "invalid_expiry_year");

  errors = reject({"4242424242424242", "12/20", "12"});
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].field, "exp");
  EXPECT_EQ(errors[1].field, "cvc");
}

TEST(card_check, an_optional_cvc_may_be_absent_for_every_brand_but_not_wrong) {
  for (auto* number : {"4242424242424242", "378282246310005"}) {
    auto fields = pass(card_input{number, "12/30", "", true});
    EXPECT_TRUE(fields.cvc.empty()) << number;
    EXPECT_EQ(single(reject(card_input{number, "12/30", "", false})).code,
              "invalid_cvc")
      << number;
    EXPECT_EQ(single(reject(card_input{number, "12/30", "12", true})).code,
              "invalid_cvc")
      << "a CVC that is given is checked: " << number;
  }
}
