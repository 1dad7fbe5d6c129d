// The store's side of the demo: which order a session belongs to, and
// whether the store's webhook endpoint has heard about each payment.
#pragma once

#include "checkout_runner.hpp"

#include <httplib.h>

#include <string>
#include <vector>

namespace demo {

/// The store's order id for a checkout session, or "" when not listed.
std::string order_id_for_session(httplib::Client& store,
                                 const std::string& session_id);

/// Webhook event types the store should receive for a checkout: one
/// payment_intent.payment_failed per decline, then the success pair.
std::vector<std::string> expected_webhooks(const checkout_result& r);

/// Expected types not (yet) in r.webhook_types, counting repeats.
std::vector<std::string> missing_webhooks(const checkout_result& r);

/// True when a checkout is done from the store's point of view: paid at
/// the PSP, paid at the store, and every expected webhook received.
bool settled(const checkout_result& r);

/// Polls /orders.json until every paid checkout is settled or `timeout_s`
/// passes; fills store_status and webhook_types. True when all settled.
bool await_webhooks(httplib::Client& store, std::vector<checkout_result>& all,
                    int timeout_s);

} // namespace demo
