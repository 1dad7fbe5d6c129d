#pragma once

// Error messages echo what the client sent (an unknown parameter, an id, an
// array index), and a client may put a card number anywhere: in
// `payment_method`, in a bracket (`payment_method_data[card][4242…]`), as a
// bare form key. The card paths never echo it; this covers every other.

#include <string>
#include <string_view>

namespace psp::http {

/// `text` with every run of 12 digits or more (single spaces or dashes
/// between them allowed, as cards are written; longer runs too, since a
/// number may run into its expiry) masked but its last four:
/// "4242 4242 4242 4242" becomes "**** **** **** 4242". Shorter runs
/// (amounts, timestamps in seconds, indexes) are left as they are.
std::string mask_card_numbers(std::string_view text);

/// Whether `text` may hold a card number, for text about to be stored: a
/// run as above of 13 to 19 digits that passes the Luhn check, or of more
/// (a number run into its expiry).
bool contains_card_number(std::string_view text);

} // namespace psp::http
