#pragma once

// Stripe-style application/x-www-form-urlencoded bodies with bracket
// notation (`metadata[order]=7`, `line_items[0][quantity]=1`, `tags[]=a`),
// decoded into JSON whose leaves are all strings.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace psp::codec {

/// Why a body was rejected. `param` names the offending parameter in its
/// bracket spelling (e.g. "line_items[2]"), empty if none applies.
struct form_error {
  std::string message;
  std::string param;
};

/// Bounds on what one body may contain; a request over any of them is
/// rejected rather than partially decoded.
struct form_limits {
  /// Number of `key=value` pairs.
  size_t params_max = 1000;
  /// Number of bracket segments after the name (`a[b][c]` has 2).
  size_t depth_max = 5;
  /// Length of a key after percent-decoding, in bytes.
  size_t key_length_max = 256;
  /// Length of a value after percent-decoding, in bytes.
  size_t value_length_max = 8192;
  /// Largest numeric index; also caps the length of a `[]` array at
  /// array_index_max + 1.
  size_t array_index_max = 100;
};

/// Returns the decoded object, or form_error. Never throws.
///
/// Rules: numeric bracket segments make an array whose indexes must be
/// dense from 0 (any order in the body); `[]` appends and is only allowed
/// as the last segment; a key may not be both a value and a container, may
/// not mix names, numeric indexes and `[]`, and a value may not be given
/// twice. A bracket segment right after a `metadata` segment is always a
/// key (`metadata[0]` is the key "0"). Empty pairs (`a=1&&b=2`) are
/// skipped; a pair without `=` has the empty value. Keys and values must be UTF-8 after decoding, so the result
/// can always be serialised.
std::variant<nlohmann::json, form_error>
decode_form(std::string_view body, const form_limits& limits = {});

/// Decodes `+` to a space and `%XX` to its byte. On a malformed escape
/// returns "" and sets `*ok` to false; otherwise sets `*ok` to true. `ok`
/// may be null.
std::string url_decode_component(std::string_view s, bool* ok);

/// Percent-encodes every byte except the unreserved characters
/// [A-Za-z0-9-._~]; a space becomes "%20".
std::string url_encode_component(std::string_view s);

} // namespace psp::codec
