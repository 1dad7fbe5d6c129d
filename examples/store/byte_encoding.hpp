// Hex and base64, the two ways webhook signatures are written down.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace store {

/// Lower-case hex of arbitrary bytes.
std::string to_hex(std::string_view bytes);

/// Hex (either case) to bytes; nullopt on odd length or a non-hex digit.
std::optional<std::string> from_hex(std::string_view hex);

/// Standard (RFC 4648) base64 with padding.
std::string base64_encode(std::string_view bytes);

/// Standard base64 to bytes; padding optional; nullopt on any bad character.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace store
