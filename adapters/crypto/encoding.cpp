#include "adapters/crypto/encoding.hpp"

#include <cstdint>

namespace psp::crypto {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

constexpr char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Value of a hex digit, or -1.
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

/// Value of a base64 character, or -1 (also for '=').
int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

} // namespace

std::string to_hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    auto b = static_cast<uint8_t>(c);
    out.push_back(hex_digits[b >> 4]);
    out.push_back(hex_digits[b & 0x0f]);
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = hex_value(hex[i]);
    int lo = hex_value(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t group = (uint32_t{static_cast<uint8_t>(bytes[i])} << 16) |
                     (uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8) |
                     uint32_t{static_cast<uint8_t>(bytes[i + 2])};
    out.push_back(base64_alphabet[(group >> 18) & 0x3f]);
    out.push_back(base64_alphabet[(group >> 12) & 0x3f]);
    out.push_back(base64_alphabet[(group >> 6) & 0x3f]);
    out.push_back(base64_alphabet[group & 0x3f]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t group = uint32_t{static_cast<uint8_t>(bytes[i])} << 16;
    out.push_back(base64_alphabet[(group >> 18) & 0x3f]);
    out.push_back(base64_alphabet[(group >> 12) & 0x3f]);
    out.append("==");
  } else if (rest == 2) {
    uint32_t group = (uint32_t{static_cast<uint8_t>(bytes[i])} << 16) |
                     (uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8);
    out.push_back(base64_alphabet[(group >> 18) & 0x3f]);
    out.push_back(base64_alphabet[(group >> 12) & 0x3f]);
    out.push_back(base64_alphabet[(group >> 6) & 0x3f]);
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') {
    padding = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last_group = i + 4 == text.size();
    size_t data_chars = last_group ? 4 - padding : 4;
    uint32_t group = 0;
    for (size_t j = 0; j < 4; ++j) {
      uint32_t value = 0;
      if (j < data_chars) {
        int v = base64_value(text[i + j]);
        if (v < 0) {
          return std::nullopt;
        }
        value = static_cast<uint32_t>(v);
      }
      group = (group << 6) | value;
    }
    out.push_back(static_cast<char>((group >> 16) & 0xff));
    if (data_chars >= 3) {
      out.push_back(static_cast<char>((group >> 8) & 0xff));
    }
    if (data_chars == 4) {
      out.push_back(static_cast<char>(group & 0xff));
    }
    // Canonical form: the bits that fall outside the decoded bytes are zero.
    if ((data_chars == 2 && (group & 0xffff) != 0) ||
        (data_chars == 3 && (group & 0xff) != 0)) {
      return std::nullopt;
    }
  }
  return out;
}

} // namespace psp::crypto
