#include "adapters/http/card_number_mask.hpp"

#include "adapters/codec/card_check.hpp"

#include <utility>

namespace psp::http {

namespace {

constexpr int card_digits_min = 12;
constexpr int digits_kept = 4;
// Card numbers are 13 to 19 digits (ISO/IEC 7812).
constexpr int card_number_digits_min = 13;
constexpr int card_number_digits_max = 19;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_separator(char c) {
  return c == ' ' || c == '-';
}

/// The end of the digit run starting at `i` (digits, each separated from
/// the next by at most one space or dash) and how many digits it holds.
std::pair<size_t, int> digit_run(std::string_view text, size_t i) {
  size_t end = i;
  int digits = 0;
  while (end < text.size()) {
    if (is_digit(text[end])) {
      ++digits;
      ++end;
    } else if (is_separator(text[end]) && end + 1 < text.size()
               && is_digit(text[end + 1])) {
      ++end;
    } else {
      break;
    }
  }
  return {end, digits};
}

} // namespace

std::string mask_card_numbers(std::string_view text) {
  std::string out{text};
  size_t i = 0;
  while (i < out.size()) {
    if (!is_digit(out[i])) {
      ++i;
      continue;
    }
    auto [end, digits] = digit_run(out, i);
    if (digits >= card_digits_min) {
      int to_mask = digits - digits_kept;
      for (size_t j = i; j < end && to_mask > 0; ++j) {
        if (is_digit(out[j])) {
          out[j] = '*';
          --to_mask;
        }
      }
    }
    i = end;
  }
  return out;
}

bool contains_card_number(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    if (!is_digit(text[i])) {
      ++i;
      continue;
    }
    auto [end, digits] = digit_run(text, i);
    if (digits > card_number_digits_max) {
      return true;
    }
    if (digits >= card_number_digits_min) {
      std::string only_digits;
      for (size_t j = i; j < end; ++j) {
        if (is_digit(text[j])) {
          only_digits += text[j];
        }
      }
      if (codec::luhn_valid(only_digits)) {
        return true;
      }
    }
    i = end;
  }
  return false;
}

} // namespace psp::http
