#pragma once

// A refused credential is logged (PCI DSS 10.2.1.4, invalid access
// attempts: the card data audit found none logged), at most ten lines a
// second a node, so a client guessing keys cannot flood the log; the lines
// held back are counted in the next one (`suppressed=N`). The key shows
// only as Stripe shows a rejected one: its type prefix and last four.

#include <string_view>

namespace psp::http {

/// `realm`: "api" or "admin"; `reason`: no_key, malformed, unknown_key,
/// wrong_token...; `key_hint`: already redacted ("" when none was sent).
void log_auth_failure(std::string_view realm, std::string_view reason,
                      std::string_view key_hint, std::string_view remote_addr);

} // namespace psp::http
