#include "adapters/codec/form_decode.hpp"

// The percent-encoding half of form_decode.hpp, kept apart from the bracket
// parser so each file reads on its own.

#include <cstdint>

namespace psp::codec {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

} // namespace

std::string url_decode_component(std::string_view s, bool* ok) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        if (ok != nullptr) {
          *ok = false;
        }
        return "";
      }
      out.push_back(static_cast<char>((hi << 4) | lo));
      i += 2;
    }
  }
  if (ok != nullptr) {
    *ok = true;
  }
  return out;
}

std::string url_encode_component(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                      c == '_' || c == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      auto b = static_cast<uint8_t>(c);
      out.push_back('%');
      out.push_back(hex[b >> 4]);
      out.push_back(hex[b & 0x0f]);
    }
  }
  return out;
}

} // namespace psp::codec
