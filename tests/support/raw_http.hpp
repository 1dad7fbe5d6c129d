#pragma once

// Bytes on a socket, for requests an HTTP library would not send as they
// are (malformed heads, bodies where none belong) and answers it would
// hide (the exact headers, a connection the server closes).

#include <string>

namespace psp::test {

/// Sends `request` as it is on one connection to `base_url`
/// (http://host:port) and reads the answer until the server closes or
/// 15 s pass.
std::string raw_exchange(const std::string& base_url,
                         const std::string& request);

/// The status code of a raw answer's first line (0 when none).
int raw_status_of(const std::string& raw);

} // namespace psp::test
