#pragma once

// Whether a card form POSTed to /pay/<cs> came from our own page. The
// form's nonce makes a submission idempotent (decision 9); it is no CSRF
// token: anyone can load a page for a nonce, and the 422 form echoes the
// nonce it was sent. The audit of the hosted page made a shopper's browser
// post a form from another site into an open session (a decline the
// shopper then saw as theirs). Browsers say where a POST comes from, so
// that is what is checked (decision 64): `Sec-Fetch-Site` when sent, else
// `Origin` against the request's Host or the node's public URL. A request
// with neither (curl, a server) is no browser's and passes: it could as
// well load the page first.

#include <string_view>

namespace psp::http {

/// `origin`, `sec_fetch_site`, `host`: the request's headers ("" when
/// absent); `public_url`: the node's base URL for hosted pages.
bool form_from_own_page(std::string_view origin, std::string_view sec_fetch_site,
                        std::string_view host, std::string_view public_url);

} // namespace psp::http
