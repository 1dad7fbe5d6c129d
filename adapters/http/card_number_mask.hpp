#pragma once

// Error messages echo what the client sent (an unknown parameter, an id, an
// array index), and a client may put a card number anywhere: in
// `payment_method`, in a bracket (`payment_method_data[card][4242…]`), as a
// bare form key. The card paths never echo it; this covers every other.

#include <string>
#include <string_view>

namespace psp::http {

/// `text` with every run of 12 digits or more (up to three spaces, tabs,
/// dashes, dots, underscores, slashes or commas between them allowed, as
/// cards are written; longer runs too, since a number may run into its
/// expiry) masked but its last four: "4242 4242 4242 4242" becomes
/// "**** **** **** 4242". Shorter runs (amounts, timestamps in seconds,
/// indexes) are left as they are.
std::string mask_card_numbers(std::string_view text);

/// An error answer with mask_card_numbers applied to everything the client
/// may have sent, but not to the objects a card error carries
/// (`error.payment_intent`, `error.payment_method`): those are rendered
/// from what is stored, shown by a retrieve as they are, and masking them
/// made a 402 disagree with the GET after it (a phone's digits starred).
std::string masked_error_body(const std::string& body);

/// Whether `text` may hold a card number, for text about to be stored:
/// digits of any script read as ASCII ones, then in a run as above some
/// groups in a row of 13 to 19 digits that pass the Luhn check ("+1 4242
/// 4242 4242 4242" holds one after its "1"), or a group of more than 19 (a
/// number run into its expiry).
bool contains_card_number(std::string_view text);

/// A phone number as E.164 writes it: '+' (ASCII or full-width) first, at
/// most 15 digits of any script, separators between, no letters. Too short
/// for most card numbers, and a real phone must not be refused because its
/// digits happen to pass the Luhn check (one in ten do).
bool is_international_phone(std::string_view text);

} // namespace psp::http
