// Goal: an error message never carries a card number the client put in the
// wrong place, while the numbers errors legitimately show (amounts,
// timestamps, indexes, ids) stay readable.

#include "adapters/http/card_number_mask.hpp"

#include <gtest/gtest.h>

namespace psp::http {
namespace {

TEST(card_number_mask, masks_a_card_number_but_its_last_four) {
  EXPECT_EQ(mask_card_numbers("No such PaymentMethod: '4242424242424242'"),
            "No such PaymentMethod: '************4242'");
  EXPECT_EQ(mask_card_numbers("Array index too large in "
                              "payment_method_data[card][4000000000000002]"),
            "Array index too large in payment_method_data[card]"
            "[************0002]");
}

TEST(card_number_mask, masks_numbers_written_in_groups) {
  EXPECT_EQ(mask_card_numbers("card 4242 4242 4242 4242 here"),
            "card **** **** **** 4242 here");
  EXPECT_EQ(mask_card_numbers("3782-822463-10005"), "****-******-*0005");
}

TEST(card_number_mask, masks_every_length_a_card_number_has) {
  EXPECT_EQ(mask_card_numbers("123456789012"), "********9012");
  EXPECT_EQ(mask_card_numbers("1234567890123456789"),
            "***************6789");
}

TEST(card_number_mask, masks_a_number_run_into_its_expiry) {
  EXPECT_EQ(mask_card_numbers("pi_42424242424242421225"),
            "pi_****************1225");
}

TEST(card_number_mask, leaves_other_numbers_alone) {
  for (const char* text :
       {"Invalid integer: 99999999999", "created 1764578400 ok",
        "amount must be at most 99999999", "index 100",
        "pi_3Nx12ab 12 34",
        "1 2 3 4 5 6 7 8 9 0 1", ""}) {
    EXPECT_EQ(mask_card_numbers(text), text);
  }
}

TEST(card_number_mask, separators_must_sit_between_digits) {
  // "4242 " then a letter: the space ends the run, not the text.
  EXPECT_EQ(mask_card_numbers("4242424242424242 x"), "************4242 x");
  // Up to three separators of the ways cards are written join groups.
  EXPECT_EQ(mask_card_numbers("424242424242--4242"), "************--4242");
  EXPECT_EQ(mask_card_numbers("4242.4242.4242.4242"), "****.****.****.4242");
  EXPECT_EQ(mask_card_numbers("4242 - 4242 - 4242 - 4242"),
            "**** - **** - **** - 4242");
  EXPECT_EQ(mask_card_numbers("4242_4242.4242,4242\t"), "****_****.****,4242\t");
  EXPECT_EQ(mask_card_numbers("4242\n4242\r\n4242\x01" "4242"),
            "****\n****\r\n****\x01" "4242");
  // Not a slash: a path's "/v1/" stays as it is before an id.
  EXPECT_EQ(mask_card_numbers("/v1/4242424242424242"), "/v1/************4242");
  // Digits of other scripts are masked one star each.
  EXPECT_EQ(mask_card_numbers("\xEF\xBC\x94\xEF\xBC\x92\xEF\xBC\x94\xEF\xBC\x92"
                              "\xEF\xBC\x94\xEF\xBC\x92\xEF\xBC\x94\xEF\xBC\x92"
                              "\xEF\xBC\x94\xEF\xBC\x92\xEF\xBC\x94\xEF\xBC\x92"),
            "********\xEF\xBC\x94\xEF\xBC\x92\xEF\xBC\x94\xEF\xBC\x92");
  // Four are a gap.
  EXPECT_EQ(mask_card_numbers("424242424242    4242"), "********4242    4242");
}

TEST(card_number_mask, finds_card_numbers_in_text_to_be_stored) {
  for (const char* text :
       {"4242424242424242", "card 4242 4242 4242 4242 please",
        "378282246310005", "6011-1111-1111-1117",
        // A number run into its expiry: too long for any card, refused.
        "42424242424242421240",
        // Found among other digits of its run, written any way.
        "Card 4242424242424242 5", "+1 4242424242424242",
        "4242 4242 4242 4242 1", "4242.4242.4242.4242@example.com",
        "4242_4242_4242_4242", "4242/4242/4242/4242", "4242,4242,4242,4242",
        "4242\t4242\t4242\t4242", "4242  4242  4242  4242",
        "4242 - 4242 - 4242 - 4242", "4242    4242    4242    4242",
        "4242\n4242\n4242\n4242", "4242:4242|4242#4242", "4242+4242+4242+4242",
        // Invisible and CJK separators: zero-width space, ideographic comma.
        "4242\xE2\x80\x8B" "4242\xE2\x80\x8B" "4242\xE2\x80\x8B" "4242",
        "4242\xE3\x80\x81" "4242\xE3\x80\x81" "4242\xE3\x80\x81" "4242",
        // Adlam digits (U+1E954 is 4, U+1E952 is 2).
        "\xF0\x9E\xA5\x94\xF0\x9E\xA5\x92\xF0\x9E\xA5\x94\xF0\x9E\xA5\x92"
        "\xF0\x9E\xA5\x94\xF0\x9E\xA5\x92\xF0\x9E\xA5\x94\xF0\x9E\xA5\x92"
        "\xF0\x9E\xA5\x94\xF0\x9E\xA5\x92\xF0\x9E\xA5\x94\xF0\x9E\xA5\x92"
        "\xF0\x9E\xA5\x94\xF0\x9E\xA5\x92\xF0\x9E\xA5\x94\xF0\x9E\xA5\x92",
        // Circled and superscript digits (NFKC: ASCII digits).
        "\xE2\x91\xA3\xE2\x91\xA1\xE2\x91\xA3\xE2\x91\xA1"
        "\xE2\x91\xA3\xE2\x91\xA1\xE2\x91\xA3\xE2\x91\xA1"
        "\xE2\x91\xA3\xE2\x91\xA1\xE2\x91\xA3\xE2\x91\xA1"
        "\xE2\x91\xA3\xE2\x91\xA1\xE2\x91\xA3\xE2\x91\xA1",
        "\xE2\x81\xB4\xC2\xB2\xE2\x81\xB4\xC2\xB2"
        "\xE2\x81\xB4\xC2\xB2\xE2\x81\xB4\xC2\xB2"
        "\xE2\x81\xB4\xC2\xB2\xE2\x81\xB4\xC2\xB2"
        "\xE2\x81\xB4\xC2\xB2\xE2\x81\xB4\xC2\xB2",
        // Full-width and Arabic-Indic digits.
        "\xEF\xBC\x94\xEF\xBC\x92\xEF\xBC\x94\xEF\xBC\x92"
        "\xEF\xBC\x94\xEF\xBC\x92\xEF\xBC\x94\xEF\xBC\x92"
        "\xEF\xBC\x94\xEF\xBC\x92\xEF\xBC\x94\xEF\xBC\x92"
        "\xEF\xBC\x94\xEF\xBC\x92\xEF\xBC\x94\xEF\xBC\x92",
        "\xD9\xA4\xD9\xA2\xD9\xA4\xD9\xA2\xD9\xA4\xD9\xA2\xD9\xA4\xD9\xA2"
        "\xD9\xA4\xD9\xA2\xD9\xA4\xD9\xA2\xD9\xA4\xD9\xA2\xD9\xA4\xD9\xA2"}) {
    EXPECT_TRUE(contains_card_number(text)) << text;
  }
  for (const char* text :
       {"", "Jenny Rosen", "+44 20 7946 0958", "+442079460958",
        // Thirteen to nineteen digits that fail the Luhn check.
        "4242424242424241", "1234567890123",
        "510 Townsend St, 94103", "Flat 1, 123456789012 Long Rd",
        // Letters end a run: a card cannot be made of two runs.
        "4242 4242 x 4242 4242"}) {
    EXPECT_FALSE(contains_card_number(text)) << text;
  }
}

TEST(card_number_mask, international_phone_numbers_are_phone_numbers) {
  for (const char* text :
       {"+86 139 1234 5677", "+49 151 12345678", " +1 (415) 555-0100",
        "+86\xC2\xA0" "138\xC2\xA0" "0013\xC2\xA0" "8002",  // no-break spaces
        "\xEF\xBC\x8B" "86 138 0013 8002"}) {                   // full-width +
    EXPECT_TRUE(is_international_phone(text)) << text;
  }
  for (const char* text :
       {"4242424242424242", "+1 4242424242424242", "0086 138 0013 8002",
        "+1 415 555 0100 ext 12", "call +1 415 555 0100", ""}) {
    EXPECT_FALSE(is_international_phone(text)) << text;
  }
}

} // namespace
} // namespace psp::http
