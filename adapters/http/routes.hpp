#pragma once

// Route groups of the HTTP adapter; each lives in its own file.

#include "adapters/http/api_context.hpp"

namespace httplib {
class Server;
}

namespace psp::http {

/// /v1/checkout/sessions: create, retrieve, list, expire.
void add_checkout_routes(httplib::Server& srv, api_context& ctx);
/// /v1/payment_intents: create, confirm, capture, cancel, retrieve, list.
void add_payment_intent_routes(httplib::Server& srv, api_context& ctx);
/// /v1/payment_methods/{id}: retrieve (cards only).
void add_payment_method_routes(httplib::Server& srv, api_context& ctx);
/// /v1/refunds: create, retrieve, list.
void add_refund_routes(httplib::Server& srv, api_context& ctx);
/// /v1/balance, /v1/balance_transactions (retrieve, list), /v1/charges/{id}.
void add_balance_routes(httplib::Server& srv, api_context& ctx);
/// /v1/webhook_endpoints: create, retrieve, list.
void add_webhook_endpoint_routes(httplib::Server& srv, api_context& ctx);
/// /v1/events: retrieve, list (type, created and delivery_success filters).
void add_event_routes(httplib::Server& srv, api_context& ctx);
/// /pay/{session}: the hosted payment page and its status page.
void add_hosted_page_routes(httplib::Server& srv, api_context& ctx);
/// /healthz, /metrics.
void add_operations_routes(httplib::Server& srv, api_context& ctx);
/// /admin/dead_letters: list, replay, discard (admin token).
void add_dead_letter_routes(httplib::Server& srv, api_context& ctx);
/// GET /admin/objects/<id>: any object by id, with its merchant (operator).
void add_admin_object_routes(httplib::Server& srv, api_context& ctx);
/// /admin/reconciliations (run, list, retrieve), /admin/events (operator
/// events), /admin/statements.
void add_report_routes(httplib::Server& srv, api_context& ctx);

} // namespace psp::http
