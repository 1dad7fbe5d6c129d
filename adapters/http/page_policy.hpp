#pragma once

// The Content-Security-Policy of a hosted page: its own inline scripts and
// styles run, each allowed by its SHA-256 (CSP level 3 hash sources),
// nothing else does and nothing loads from elsewhere. It was
// `'unsafe-inline'`, under which any script that got into the page would
// run (the hosted page audit, PCI DSS 6.4.3); a hash admits only the bytes
// the node wrote. The page's markup writes `<script>` and `<style>` without
// attributes, and no inline handler or style attribute.

#include <string>
#include <string_view>

namespace psp::http {

/// The policy for `html`, a whole page as it is sent.
std::string page_security_policy(std::string_view html);

} // namespace psp::http
