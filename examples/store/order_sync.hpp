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

/// The checkout-session create of order `o` as it was first sent: same
/// product, amount, URLs and Idempotency-Key (the order's own).
checkout_request checkout_request_of(const order& o,
                                     const std::string& public_url);

/// What catch_up_pending_orders did.
struct catch_up_result {
  size_t settled = 0;  ///< pending orders the PSP says are paid or expired
  size_t attached = 0; ///< sessions created again for orders without one
  size_t refused = 0;  ///< creates the PSP refused (the order stays pending)
};

/// Every pending order, one at a time: one with a session is asked of the
/// PSP and marked paid or expired as the PSP says; one without (the store
/// stopped between journaling it and the PSP's answer, so no shopper saw a
/// checkout URL) gets its create sent again under its Idempotency-Key,
/// which returns the session the PSP may have made instead of a second
/// one. Stops early when `stopping` is set.
catch_up_result catch_up_pending_orders(order_book& orders, psp_api& psp,
                                        const std::string& public_url,
                                        const std::atomic<bool>& stopping);

} // namespace store
