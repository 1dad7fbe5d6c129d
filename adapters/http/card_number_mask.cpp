#include "adapters/http/card_number_mask.hpp"

namespace psp::http {

namespace {

constexpr int card_digits_min = 12;
constexpr int digits_kept = 4;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_separator(char c) {
  return c == ' ' || c == '-';
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
    // The run: digits, each separated from the next by at most one space
    // or dash.
    size_t end = i;
    int digits = 0;
    while (end < out.size()) {
      if (is_digit(out[end])) {
        ++digits;
        ++end;
      } else if (is_separator(out[end]) && end + 1 < out.size()
                 && is_digit(out[end + 1])) {
        ++end;
      } else {
        break;
      }
    }
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

} // namespace psp::http
