#pragma once

// Text encodings for binary data: lowercase hex and RFC 4648 base64.

#include <optional>
#include <string>
#include <string_view>

namespace psp::crypto {

/// Lowercase hex, two characters per byte.
std::string to_hex(std::string_view bytes);

/// Accepts upper- and lowercase digits; nullopt on an odd length or any
/// character that is not a hex digit.
std::optional<std::string> from_hex(std::string_view hex);

/// Standard alphabet (`+`, `/`) with `=` padding.
std::string base64_encode(std::string_view bytes);

/// Strict inverse of base64_encode: nullopt unless the text is canonical
/// padded standard base64 (length a multiple of 4, no whitespace, padding
/// only at the end, unused bits of the last character zero). Canonical-only
/// means two different texts never decode to the same bytes, so a flipped
/// character in a sealed value can never go unnoticed.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace psp::crypto
