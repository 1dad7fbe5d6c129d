// Bringing an order up to date from its checkout session at the PSP, for
// when a webhook could not reach the store: the endpoint it was scheduled
// for is gone (the store registered anew after losing its saved one, or
// moved to another URL), or the shopper is back on the success page first.
// The webhook stays the main path; this only marks paid (or expired) what
// the PSP says is paid (or expired), with the same journaled step.
#pragma once

#include "order_book.hpp"
#include "psp_wire.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace store {

class psp_api;

/// Applies `session` to order `o` when it is still pending and the PSP
/// reports the session complete and paid, or expired: recorded as event
/// `sync_<session id>` (so it is applied once). True when it changed `o`.
bool sync_order(order_book& orders, const order& o,
                const checkout_session& session, int64_t now_s);

/// Every pending order with a session, asked of the PSP one at a time;
/// answers how many became paid or expired. Stops early when `stopping`
/// is set.
size_t catch_up_pending_orders(order_book& orders, psp_api& psp,
                               const std::atomic<bool>& stopping);

} // namespace store
