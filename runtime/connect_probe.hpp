#pragma once

// Why a TCP connection to a URL's host cannot be made, in words an
// operator can act on ("connection refused", "cannot resolve host 'x'").
// cpp-httplib reports every such failure as Error::Connection and keeps no
// errno, so the probe connects once more itself. Blocking, bounded by the
// timeout; for error messages only.

#include <cstdint>
#include <string>

namespace psp::recon {

/// Connects to the host and port of `url` (http:// or https://, default
/// port 80 or 443) within `timeout_ms` and says what went wrong, or that
/// this second try connected.
std::string connect_failure(const std::string& url, uint32_t timeout_ms);

} // namespace psp::recon
