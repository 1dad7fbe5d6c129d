#include "adapters/http/card_number_mask.hpp"

#include "adapters/codec/card_check.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace psp::http {

namespace {

constexpr size_t card_digits_min = 12; // masked from this many on
constexpr size_t digits_kept = 4;
// Card numbers are 13 to 19 digits (ISO/IEC 7812).
constexpr size_t card_number_digits_min = 13;
constexpr size_t card_number_digits_max = 19;
/// Separators between two digits an error's masking joins ("4242 - 4242",
/// a tab once decoded); more are a gap: messages list numbers apart.
constexpr size_t mask_gap_max = 3;
/// What the check of stored text joins: any number of them.
constexpr size_t unbounded_gap = std::numeric_limits<size_t>::max();

enum class glyph_kind : uint8_t { digit, separator, other };

/// One character of UTF-8 text, classified.
struct glyph {
  size_t begin = 0; ///< its bytes: [begin, end)
  size_t end = 0;
  glyph_kind kind = glyph_kind::other;
  char digit = 0; ///< '0'..'9' for a digit of any script
};

/// The value of a digit outside ASCII, or -1: the first code point of
/// every block of ten decimal digits in Unicode 15 (Arabic-Indic,
/// Devanagari, full-width, Adlam, mathematical, ...), then the digits of
/// other kinds.
int unicode_digit(uint32_t cp) {
  static constexpr uint32_t zeros[] = {
    0x0660,  0x06F0,  0x07C0,  0x0966,  0x09E6,  0x0A66,  0x0AE6,  0x0B66,
    0x0BE6,  0x0C66,  0x0CE6,  0x0D66,  0x0DE6,  0x0E50,  0x0ED0,  0x0F20,
    0x1040,  0x1090,  0x17E0,  0x1810,  0x1946,  0x19D0,  0x1A80,  0x1A90,
    0x1B50,  0x1BB0,  0x1C40,  0x1C50,  0xA620,  0xA8D0,  0xA900,  0xA9D0,
    0xA9F0,  0xAA50,  0xABF0,  0xFF10,  0x104A0, 0x10D30, 0x11066, 0x110F0,
    0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730,
    0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0,
    0x1E4F0, 0x1E950, 0x1FBF0};
  for (auto zero : zeros) {
    if (cp >= zero && cp < zero + 10) {
      return static_cast<int>(cp - zero);
    }
  }
  // Digits that are no decimal digit to Unicode but read as one (NFKC
  // makes them ASCII digits): superscripts, subscripts, circled,
  // parenthesized, with a full stop or comma. The audit of the hosted page
  // typed a card number into the name in circled digits.
  struct run_of_digits {
    uint32_t first;
    uint8_t first_value;
    uint8_t count;
  };
  static constexpr run_of_digits others[] = {
    {0x00B2, 2, 2},  {0x00B9, 1, 1},  {0x2070, 0, 1},  {0x2074, 4, 6},
    {0x2080, 0, 10}, {0x2460, 1, 9},  {0x2474, 1, 9},  {0x2488, 1, 9},
    {0x24EA, 0, 1},  {0x24F5, 1, 9},  {0x24FF, 0, 1},  {0x2776, 1, 9},
    {0x2780, 1, 9},  {0x278A, 1, 9},  {0x1F100, 0, 1}, {0x1F101, 0, 10}};
  for (auto r : others) {
    if (cp >= r.first && cp < r.first + r.count) {
      return static_cast<int>(r.first_value + (cp - r.first));
    }
  }
  return -1;
}

/// Non-ASCII characters that can stand between digit groups without being
/// a word: spaces, invisible joiners and marks, dashes, dots, bullets,
/// CJK and full-width punctuation. Anything else ends a run, as a letter.
bool unicode_separator(uint32_t cp) {
  struct range {
    uint32_t first;
    uint32_t last;
  };
  static constexpr range ranges[] = {
    {0x0080, 0x00BF},  {0x0300, 0x036F},  {0x2000, 0x206F},
    {0x20D0, 0x20FF},  {0x2200, 0x22FF},  {0x3000, 0x303F},
    {0x30FB, 0x30FB},  {0xFE00, 0xFE6F},  {0xFEFF, 0xFEFF},
    {0xFF00, 0xFF0F},  {0xFF1A, 0xFF20},  {0xFF3B, 0xFF40},
    {0xFF5B, 0xFF65},  {0xE0000, 0xE007F}};
  for (auto r : ranges) {
    if (cp >= r.first && cp <= r.last) {
      return true;
    }
  }
  return false;
}

bool ascii_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
         || (c >= 'A' && c <= 'Z');
}

/// `text` as classified characters. `slash_separates`: an error's masking
/// leaves '/' out, so that "/v1/" does not join a path id's digits.
std::vector<glyph> glyphs_of(std::string_view text, bool slash_separates) {
  std::vector<glyph> out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    glyph g;
    g.begin = i;
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      g.end = i + 1;
      if (c >= '0' && c <= '9') {
        g.kind = glyph_kind::digit;
        g.digit = static_cast<char>(c);
      } else if (!ascii_alnum(static_cast<char>(c))
                 && (slash_separates || c != '/')) {
        g.kind = glyph_kind::separator; // punctuation, spaces, controls
      }
    } else {
      size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      uint32_t cp = length == 4   ? c & 0x07u
                    : length == 3 ? c & 0x0Fu
                                  : c & 0x1Fu;
      for (size_t k = 1; k < length && i + k < text.size(); ++k) {
        cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
      }
      g.end = std::min(i + length, text.size());
      if (auto d = unicode_digit(cp); d >= 0) {
        g.kind = glyph_kind::digit;
        g.digit = static_cast<char>('0' + d);
      } else if (unicode_separator(cp)) {
        g.kind = glyph_kind::separator;
      }
    }
    i = g.end;
    out.push_back(g);
  }
  return out;
}

/// A run of digits: its glyphs [first, last) and the digits of each group
/// (digits with nothing between them).
struct digit_run {
  size_t first = 0;
  size_t last = 0;
  std::vector<std::string> groups;
  size_t digits = 0;
};

/// Each run of digits of `glyphs` whose groups are at most `gap_max`
/// separators apart, in order.
std::vector<digit_run> runs_of(const std::vector<glyph>& glyphs,
                               size_t gap_max) {
  std::vector<digit_run> out;
  size_t i = 0;
  while (i < glyphs.size()) {
    if (glyphs[i].kind != glyph_kind::digit) {
      ++i;
      continue;
    }
    digit_run run;
    run.first = i;
    run.groups.emplace_back();
    size_t end = i;
    while (end < glyphs.size()) {
      if (glyphs[end].kind == glyph_kind::digit) {
        run.groups.back() += glyphs[end].digit;
        ++run.digits;
        ++end;
        continue;
      }
      size_t gap = 0;
      while (end + gap < glyphs.size() && gap < gap_max
             && glyphs[end + gap].kind == glyph_kind::separator) {
        ++gap;
      }
      if (gap == 0 || end + gap >= glyphs.size()
          || glyphs[end + gap].kind != glyph_kind::digit) {
        break;
      }
      run.groups.emplace_back();
      end += gap;
    }
    run.last = end;
    i = end;
    out.push_back(std::move(run));
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
      if (groups[last].size() > card_number_digits_max) {
        return true;
      }
      digits += groups[last];
      if (digits.size() > card_number_digits_max) {
        break;
      }
      if (digits.size() >= card_number_digits_min
          && codec::luhn_valid(digits)) {
        return true;
      }
    }
  }
  return false;
}

/// mask_card_numbers over every string of `value`, keys too.
void mask_strings(nlohmann::json& value) {
  if (value.is_string()) {
    value = mask_card_numbers(value.get_ref<const std::string&>());
  } else if (value.is_array()) {
    for (auto& item : value) {
      mask_strings(item);
    }
  } else if (value.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto& [key, item] : value.items()) {
      mask_strings(item);
      out[mask_card_numbers(key)] = std::move(item);
    }
    value = std::move(out);
  }
}

} // namespace

std::string mask_card_numbers(std::string_view text) {
  auto glyphs = glyphs_of(text, false);
  std::string out;
  out.reserve(text.size());
  size_t copied = 0; // bytes of `text` copied or replaced so far
  for (auto& run : runs_of(glyphs, mask_gap_max)) {
    if (run.digits < card_digits_min) {
      continue;
    }
    size_t to_mask = run.digits - digits_kept;
    for (size_t g = run.first; g < run.last && to_mask > 0; ++g) {
      if (glyphs[g].kind != glyph_kind::digit) {
        continue;
      }
      out.append(text.substr(copied, glyphs[g].begin - copied));
      out += '*'; // one star for the digit, whatever its bytes
      copied = glyphs[g].end;
      --to_mask;
    }
  }
  out.append(text.substr(copied));
  return out;
}

std::string masked_error_body(const std::string& body) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (!parsed.is_object()) {
    return mask_card_numbers(body);
  }
  // Masked decoded, so a tab or a "\u0034" the JSON escapes is read as the
  // client sent it.
  nlohmann::json stored = nlohmann::json::object();
  if (parsed.contains("error") && parsed["error"].is_object()) {
    auto& error = parsed["error"];
    for (auto* key : {"payment_intent", "payment_method"}) {
      if (error.contains(key)) {
        stored[key] = std::move(error[key]);
        error.erase(key);
      }
    }
  }
  mask_strings(parsed);
  for (auto& [key, value] : stored.items()) {
    parsed["error"][key] = std::move(value);
  }
  return parsed.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool contains_card_number(std::string_view text) {
  auto glyphs = glyphs_of(text, true);
  for (auto& run : runs_of(glyphs, unbounded_gap)) {
    if (run.digits >= card_number_digits_min
        && groups_hold_card_number(run.groups)) {
      return true;
    }
  }
  return false;
}

bool is_international_phone(std::string_view text) {
  auto glyphs = glyphs_of(text, true);
  size_t digits = 0;
  bool plus_first = false;
  bool started = false;
  for (auto& g : glyphs) {
    auto bytes = text.substr(g.begin, g.end - g.begin);
    if (!started && g.kind == glyph_kind::separator
        && (bytes == "+" || bytes == "\xEF\xBC\x8B")) { // '+' or full-width
      plus_first = true;
      started = true;
    } else if (g.kind == glyph_kind::digit) {
      started = true;
      ++digits;
    } else if (g.kind == glyph_kind::other) {
      return false; // letters: not a bare phone number
    } else if (!started && bytes != " " && bytes != "\t") {
      started = true; // something else before a '+'
    }
  }
  return plus_first && digits <= 15;
}

} // namespace psp::http
