#pragma once

// Shape checks of text parameters shared by the routes: lengths counted in
// characters (Stripe's limits are characters; counting bytes held a Japanese
// product name to a third of its limit), URLs and email addresses.

#include <cstddef>
#include <string>
#include <string_view>

namespace psp::http {

/// Characters (code points) of UTF-8 text. Bodies are checked as UTF-8
/// before a route reads them; a header's bytes are counted the same way.
size_t utf8_length(std::string_view text);

/// ASCII letters lowered; other bytes as they are. For values Stripe takes
/// in any case and stores in lower case (currency codes).
std::string ascii_lower(std::string_view text);

/// Whether `text` equals `lower` (all lower case) ignoring ASCII case.
bool equals_ignoring_case(std::string_view text, std::string_view lower);

/// `text` begins with `lower` (ASCII letters in any case), as an HTTP
/// auth scheme's name may (RFC 9110 11.1).
bool starts_with_ignoring_case(std::string_view text, std::string_view lower);

/// An absolute http or https URL (the scheme in any case) with a host, an
/// optional port of 1..65535, at most 2,048 bytes and no whitespace or
/// control characters: something a browser can be sent to and libcurl can
/// post to. Whether the host exists is not ours to know.
bool is_http_url(std::string_view text);

/// The host of a URL that is_http_url accepts, as written: without the
/// user info and the port, an IPv6 literal without its brackets.
std::string_view url_host(std::string_view url);

/// The shape of an email address (RFC 5321's 254 bytes, one @ with a local
/// part before it, a dotted domain, no spaces or address-list punctuation).
bool looks_like_email(std::string_view text);

/// Whether UTF-8 `text` holds a control character (C0, DEL, C1) or a
/// text-direction embedding, override or isolate (U+202A..U+202E,
/// U+2066..U+2069), by which a product name shown on the hosted page could
/// make "1.00 USD" of other characters (the page audit).
bool has_control_or_direction_override(std::string_view text);

} // namespace psp::http
