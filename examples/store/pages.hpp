// HTML for the shop's pages. Pure string building; every value that came
// from outside (PSP, shopper) is escaped.
#pragma once

#include "order_book.hpp"
#include "psp_wire.hpp"

#include <string>
#include <string_view>

namespace store {

/// Escapes & < > " ' for use in HTML text and attribute values.
std::string html_escape(std::string_view text);

/// GET /: the products, each with a quantity field and a Buy button.
std::string product_page();

/// GET /orders/<id>: status, amount, failure message and received events.
std::string order_page(const order& o);

/// GET /success: the order as the store knows it, next to what the PSP says
/// about the session. Refreshes itself while the webhook is still pending.
std::string success_page(const order& o, const checkout_session& session);

/// Any error: a title, a message and a link back to the shop.
std::string error_page(std::string_view title, std::string_view message);

} // namespace store
