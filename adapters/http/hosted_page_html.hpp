#pragma once

// The HTML of the hosted payment page, its status page and its dead ends.
// Pure functions over the session's fields; every value is HTML-escaped.

#include "adapters/render/objects.hpp"

#include <map>
#include <string>

namespace psp::http {

std::string html_escape(const std::string& text);

/// The card form. `errors` maps a field ("number", "exp", "cvc", "form") to
/// a message shown next to it; `nonce` makes one submission of this form
/// idempotent; `name`/`exp` are echoed back after an error (never the
/// number or CVC, nor either of them when it holds what may be a card
/// number).
std::string payment_form_page(const render::fields& cs,
                              const std::string& nonce,
                              const std::map<std::string, std::string>& errors,
                              const std::string& name, const std::string& exp);

/// True when what a shopper typed in a text field (name, expiry) may hold a
/// card number: 12 digits or more in any arrangement, or a number as the
/// API's checks find one (card_number_mask.hpp). Such a value is neither
/// shown again nor kept.
bool may_hold_typed_card_number(const std::string& typed);

/// The payment's outcome: with a `decline_message`, the decline and a link
/// back to the form; otherwise "processing", polling `status.json` (and,
/// without scripts, reloading, which the route answers from the state).
std::string status_page(const render::fields& cs,
                        const std::string& decline_message);

/// A page with a title and a message, for missing, expired or paid sessions.
std::string message_page(const std::string& title, const std::string& message,
                         const std::string& link_url,
                         const std::string& link_text);

/// success_url with {CHECKOUT_SESSION_ID} replaced by the session id.
std::string success_redirect(const render::fields& cs);

} // namespace psp::http
