#include "adapters/codec/card_check.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>

namespace psp::codec {

namespace {

constexpr size_t pan_length_min = 12;
constexpr size_t pan_length_max = 19;

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == s.npos;
}

/// Value of a string of at most 4 digits, or -1.
int small_number(std::string_view s) {
  if (!all_digits(s) || s.size() > 4) {
    return -1;
  }
  int out = 0;
  for (char c : s) {
    out = out * 10 + (c - '0');
  }
  return out;
}

/// The first `n` digits as a number (assumes `digits` has at least `n`).
int prefix(std::string_view digits, size_t n) {
  return small_number(digits.substr(0, n));
}

bool in_range(int value, int low, int high) {
  return value >= low && value <= high;
}

struct expiry_parts {
  std::string_view month;
  std::string_view year;
};

/// Splits "MM/YY", "M/YYYY", "MMYY" or "MMYYYY" after spaces are removed;
/// nullopt when the shape is none of these.
std::optional<expiry_parts> split_expiry(std::string_view text) {
  size_t slash = text.find('/');
  if (slash != text.npos) {
    return expiry_parts{text.substr(0, slash), text.substr(slash + 1)};
  }
  if (text.size() == 4 || text.size() == 6) {
    return expiry_parts{text.substr(0, 2), text.substr(2)};
  }
  return std::nullopt;
}

/// Four-digit year for two typed digits: this century, unless that lies in
/// the past while the next century is within the allowed window.
int expand_year(int two_digits, int now_year) {
  int year = now_year / 100 * 100 + two_digits;
  if (year < now_year && year + 100 <= now_year + card_expiry_years_ahead_max) {
    year += 100;
  }
  return year;
}

/// Whether a brand issues numbers of this many digits (ISO/IEC 7812 ranges
/// as the networks publish them); a brand we do not know may have any
/// length from 12 to 19, so its cards reach the network to decide.
bool length_fits_brand(card_brand brand, size_t digits) {
  switch (brand) {
    case card_brand::visa:
      return digits == 13 || digits == 16 || digits == 19;
    case card_brand::mastercard:
      return digits == 16;
    case card_brand::amex:
      return digits == 15;
    case card_brand::diners:
      return digits >= 14 && digits <= 19;
    case card_brand::discover:
    case card_brand::jcb:
    case card_brand::unionpay:
      return digits >= 16 && digits <= 19;
    case card_brand::unknown:
      return true;
  }
  return true;
}

card_error number_error() {
  return card_error{"number", "invalid_number", "Your card number is invalid."};
}

/// A number of card shape that fails the Luhn check: Stripe's
/// incorrect_number (its test card 4242424242424241), not invalid_number.
card_error luhn_error() {
  return card_error{"number", "incorrect_number",
                    "Your card number is incorrect."};
}

card_error month_error() {
  return card_error{"exp", "invalid_expiry_month",
                    "Your card's expiration month is invalid."};
}

card_error year_error(const char* message) {
  return card_error{"exp", "invalid_expiry_year", message};
}

/// Parses and checks the expiry; on success fills month and year.
std::optional<card_error> check_expiry(std::string_view typed, int now_year,
                                       int now_month, int& month, int& year) {
  std::string text;
  for (char c : typed) {
    if (c != ' ') {
      text.push_back(c);
    }
  }
  auto parts = split_expiry(text);
  if (!parts) {
    return month_error();
  }
  month = parts->month.size() <= 2 ? small_number(parts->month) : -1;
  if (!in_range(month, 1, 12)) {
    return month_error();
  }
  year = small_number(parts->year);
  if (year < 0 || (parts->year.size() != 2 && parts->year.size() != 4)) {
    return year_error("Your card's expiration year is invalid.");
  }
  if (parts->year.size() == 2) {
    year = expand_year(year, now_year);
  }
  int months_ahead = (year - now_year) * 12 + (month - now_month);
  if (months_ahead < 0) {
    return year_error("Your card's expiration date is in the past.");
  }
  if (months_ahead > card_expiry_years_ahead_max * 12) {
    return year_error("Your card's expiration year is too far in the future.");
  }
  return std::nullopt;
}

bool cvc_valid(std::string_view cvc, card_brand brand) {
  if (!all_digits(cvc)) {
    return false;
  }
  switch (brand) {
  case card_brand::amex:
    return cvc.size() == 4;
  case card_brand::unknown:
    return cvc.size() == 3 || cvc.size() == 4;
  default:
    return cvc.size() == 3;
  }
}

std::string_view trim_spaces(std::string_view s) {
  size_t first = s.find_first_not_of(' ');
  if (first == s.npos) {
    return {};
  }
  size_t last = s.find_last_not_of(' ');
  return s.substr(first, last - first + 1);
}

} // namespace

std::string_view to_string(card_brand b) {
  switch (b) {
  case card_brand::visa:
    return "visa";
  case card_brand::mastercard:
    return "mastercard";
  case card_brand::amex:
    return "amex";
  case card_brand::discover:
    return "discover";
  case card_brand::diners:
    return "diners";
  case card_brand::jcb:
    return "jcb";
  case card_brand::unionpay:
    return "unionpay";
  case card_brand::unknown:
    return "unknown";
  }
  return "unknown";
}

std::string digits_only(std::string_view s) {
  // What a number copied from a document or typed on a CJK keyboard holds
  // besides ASCII (the accessibility audit pasted these and was refused):
  // UTF-8 of the no-break space, U+2000..U+200B (en to zero-width spaces),
  // the narrow no-break, medium mathematical and ideographic spaces, the
  // byte order mark and the full-width hyphen; and full-width digits
  // U+FF10..U+FF19 (EF BC 90..99). The hosted page's script strips the
  // same (hosted_page_html.cpp).
  static constexpr std::string_view spaces[] = {
    "\xC2\xA0",     "\xE2\x80\x80", "\xE2\x80\x81", "\xE2\x80\x82",
    "\xE2\x80\x83", "\xE2\x80\x84", "\xE2\x80\x85", "\xE2\x80\x86",
    "\xE2\x80\x87", "\xE2\x80\x88", "\xE2\x80\x89", "\xE2\x80\x8A",
    "\xE2\x80\x8B", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80",
    "\xEF\xBB\xBF", "\xEF\xBC\x8D"};
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      out.push_back(c);
      ++i;
      continue;
    }
    if (c == ' ' || c == '-' || c == '\t') {
      ++i;
      continue;
    }
    auto rest = s.substr(i);
    if (rest.size() >= 3 && rest[0] == '\xEF' && rest[1] == '\xBC'
        && rest[2] >= '\x90' && rest[2] <= '\x99') {
      out.push_back(static_cast<char>('0' + (rest[2] - '\x90')));
      i += 3;
      continue;
    }
    auto space = std::find_if(std::begin(spaces), std::end(spaces),
                              [&](std::string_view sp) {
                                return rest.substr(0, sp.size()) == sp;
                              });
    if (space == std::end(spaces)) {
      return "";
    }
    i += space->size();
  }
  return out;
}

card_expiry test_card_expiry(int year) {
  return {12, year + 3};
}

bool luhn_valid(std::string_view digits) {
  if (!all_digits(digits)) {
    return false;
  }
  int sum = 0;
  bool doubled = false;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (doubled) {
      d *= 2;
      if (d > 9) {
        d -= 9;
      }
    }
    sum += d;
    doubled = !doubled;
  }
  return sum % 10 == 0;
}

card_brand detect_brand(std::string_view digits) {
  if (!all_digits(digits) || digits.size() < 4) {
    return card_brand::unknown;
  }
  int p1 = prefix(digits, 1);
  int p2 = prefix(digits, 2);
  int p3 = prefix(digits, 3);
  int p4 = prefix(digits, 4);
  if (p1 == 4) {
    return card_brand::visa;
  }
  if (in_range(p2, 51, 55) || in_range(p4, 2221, 2720)) {
    return card_brand::mastercard;
  }
  if (p2 == 34 || p2 == 37) {
    return card_brand::amex;
  }
  if (p4 == 6011 || in_range(p3, 644, 649) || p2 == 65) {
    return card_brand::discover;
  }
  if (in_range(p3, 300, 305) || p4 == 3095 || p2 == 36 || p2 == 38 ||
      p2 == 39) {
    return card_brand::diners;
  }
  if (in_range(p4, 3528, 3589)) {
    return card_brand::jcb;
  }
  if (p2 == 62) {
    return card_brand::unionpay;
  }
  return card_brand::unknown;
}

std::variant<card_fields, std::vector<card_error>>
check_card(const card_input& in, int now_year, int now_month) {
  if (!in_range(now_month, 1, 12) || now_year < 1000) {
    std::fprintf(stderr, "check_card: bad clock %d-%d\n", now_year, now_month);
    std::abort();
  }
  std::vector<card_error> errors;
  card_fields out;
  out.pan = digits_only(in.number);
  out.brand = detect_brand(out.pan);
  if (out.pan.size() < pan_length_min || out.pan.size() > pan_length_max
      || !length_fits_brand(out.brand, out.pan.size())) {
    errors.push_back(number_error());
  } else if (!luhn_valid(out.pan)) {
    errors.push_back(luhn_error());
  }
  if (auto err = check_expiry(in.exp, now_year, now_month, out.exp_month,
                              out.exp_year)) {
    errors.push_back(std::move(*err));
  }
  std::string_view cvc = trim_spaces(in.cvc);
  bool cvc_absent_allowed = in.cvc_optional && cvc.empty();
  if (!cvc_absent_allowed && !cvc_valid(cvc, out.brand)) {
    errors.push_back(card_error{"cvc", "invalid_cvc",
                                "Your card's security code is invalid."});
  }
  if (!errors.empty()) {
    return errors;
  }
  out.cvc = std::string(cvc);
  out.last4 = out.pan.substr(out.pan.size() - 4);
  return out;
}

} // namespace psp::codec
