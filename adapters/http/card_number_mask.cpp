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

/// Calls `visit(start, end, digits)` for each digit run of `text` in
/// order, until it answers false.
template <class Visit>
void for_each_digit_run(std::string_view text, Visit visit) {
  size_t i = 0;
  while (i < text.size()) {
    if (!is_digit(text[i])) {
      ++i;
      continue;
    }
    auto [end, digits] = digit_run(text, i);
    if (!visit(i, end, digits)) {
      return;
    }
    i = end;
  }
}

} // namespace

std::string mask_card_numbers(std::string_view text) {
  std::string out{text};
  for_each_digit_run(text, [&](size_t start, size_t end, int digits) {
    int to_mask = digits >= card_digits_min ? digits - digits_kept : 0;
    for (size_t j = start; j < end && to_mask > 0; ++j) {
      if (is_digit(out[j])) {
        out[j] = '*';
        --to_mask;
      }
    }
    return true;
  });
  return out;
}

bool contains_card_number(std::string_view text) {
  bool found = false;
  for_each_digit_run(text, [&](size_t start, size_t end, int digits) {
    if (digits > card_number_digits_max) {
      found = true; // a number run into its expiry, or something longer
    } else if (digits >= card_number_digits_min) {
      std::string only_digits;
      for (size_t j = start; j < end; ++j) {
        if (is_digit(text[j])) {
          only_digits += text[j];
        }
      }
      found = codec::luhn_valid(only_digits);
    }
    return !found;
  });
  return found;
}

} // namespace psp::http
