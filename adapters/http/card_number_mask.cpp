#include "adapters/http/card_number_mask.hpp"

#include "adapters/codec/card_check.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

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

/// What may stand between the digit groups of a written card number:
/// "4242 4242", "4242-4242", "4242.4242", "4242/4242", "4242_4242", ...
bool is_separator(char c) {
  return c == ' ' || c == '-' || c == '\t' || c == '.' || c == '_'
         || c == '/' || c == ',';
}

/// Separators between two digits, at most this many ("4242 - 4242").
constexpr size_t separator_run_max = 3;

/// The end of the digit run starting at `i` (digits, each separated from
/// the next by at most separator_run_max separators) and how many digits
/// it holds; `groups` gets the digits of each unbroken group.
std::pair<size_t, int> digit_run(std::string_view text, size_t i,
                                 std::vector<std::string>* groups = nullptr) {
  size_t end = i;
  int digits = 0;
  bool in_group = false;
  while (end < text.size()) {
    if (is_digit(text[end])) {
      if (groups != nullptr) {
        if (!in_group) {
          groups->emplace_back();
        }
        groups->back() += text[end];
      }
      in_group = true;
      ++digits;
      ++end;
      continue;
    }
    size_t gap = 0;
    while (end + gap < text.size() && gap < separator_run_max
           && is_separator(text[end + gap])) {
      ++gap;
    }
    if (gap == 0 || end + gap >= text.size() || !is_digit(text[end + gap])) {
      break;
    }
    in_group = false;
    end += gap;
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

/// The value of a decimal digit outside ASCII (Arabic-Indic, Devanagari,
/// full-width, ...: every Unicode block of ten), or -1.
int unicode_digit(uint32_t cp) {
  static constexpr uint32_t zeros[] = {
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6,
    0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090,
    0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40,
    0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x11066, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6};
  for (auto zero : zeros) {
    if (cp >= zero && cp < zero + 10) {
      return static_cast<int>(cp - zero);
    }
  }
  return -1;
}

/// `text` (UTF-8) with every decimal digit as an ASCII one, spaces and
/// dashes of other scripts as ' ', and any other non-ASCII character as
/// 'x' (a letter: it ends a run of digits).
std::string ascii_digits(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    uint32_t cp = length == 4 ? c & 0x07u : length == 3 ? c & 0x0Fu : c & 0x1Fu;
    for (size_t k = 1; k < length && i + k < text.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
    }
    i += length;
    if (auto d = unicode_digit(cp); d >= 0) {
      out += static_cast<char>('0' + d);
    } else if (cp == 0x00A0 || cp == 0x2007 || cp == 0x202F || cp == 0x3000
               || (cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212
               || cp == 0xFF0D || cp == 0xFF0E || cp == 0xFF0F) {
      out += ' ';
    } else {
      out += 'x';
    }
  }
  return out;
}

/// Whether some groups in a row of one digit run read as a card number:
/// 13 to 19 digits passing the Luhn check ("+1 4242 4242 4242 4242" holds
/// one after the "1"), or a group longer than any card (a number run into
/// its expiry).
bool groups_hold_card_number(const std::vector<std::string>& groups) {
  for (size_t first = 0; first < groups.size(); ++first) {
    std::string digits;
    for (size_t last = first; last < groups.size(); ++last) {
      if (groups[last].size() > static_cast<size_t>(card_number_digits_max)) {
        return true;
      }
      digits += groups[last];
      if (digits.size() > static_cast<size_t>(card_number_digits_max)) {
        break;
      }
      if (digits.size() >= static_cast<size_t>(card_number_digits_min)
          && codec::luhn_valid(digits)) {
        return true;
      }
    }
  }
  return false;
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

std::string masked_error_body(const std::string& body) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("error")
      || !parsed["error"].is_object()) {
    return mask_card_numbers(body);
  }
  auto& error = parsed["error"];
  nlohmann::json stored = nlohmann::json::object();
  for (auto* key : {"payment_intent", "payment_method"}) {
    if (error.contains(key)) {
      stored[key] = std::move(error[key]);
      error.erase(key);
    }
  }
  if (stored.empty()) {
    return mask_card_numbers(body);
  }
  auto masked = nlohmann::json::parse(mask_card_numbers(parsed.dump(
                                        -1, ' ', false,
                                        nlohmann::json::error_handler_t::replace)),
                                      nullptr, false);
  if (masked.is_discarded()) {
    return mask_card_numbers(body); // a masked number broke the JSON
  }
  for (auto& [key, value] : stored.items()) {
    masked["error"][key] = std::move(value);
  }
  return masked.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool contains_card_number(std::string_view text) {
  auto ascii = ascii_digits(text);
  size_t i = 0;
  while (i < ascii.size()) {
    if (!is_digit(ascii[i])) {
      ++i;
      continue;
    }
    std::vector<std::string> groups;
    auto [end, digits] = digit_run(ascii, i, &groups);
    if (digits >= card_number_digits_min && groups_hold_card_number(groups)) {
      return true;
    }
    i = end;
  }
  return false;
}

} // namespace psp::http
