#pragma once

// Payment flows through the merchant API for integration tests, each waiting
// (bounded) for the final outcome: paid or declined intents, manual capture,
// void, refunds; plus the admin API's reconciliation and statement calls
// and a few Redis reads that name ledger objects.

#include "tests/support/psp_stack.hpp"

#include <map>
#include <string>

namespace psp::test {

/// POST /v1/payment_intents with confirm=true; waits until it leaves
/// `processing`. `manual`: capture_method=manual.
json create_intent(psp_stack& stack, int64_t amount_minor,
                   const std::string& currency = "usd", bool manual = false,
                   const std::string& payment_method = "pm_card_visa");

/// GET /v1/payment_intents/{id} until its status is not `processing`.
json wait_intent(psp_stack& stack, const std::string& id);

/// POST /v1/payment_intents/{id}/capture (amount_to_capture when > 0).
json capture_intent(psp_stack& stack, const std::string& id,
                    int64_t amount_minor = 0);

/// POST /v1/payment_intents/{id}/cancel.
json cancel_intent(psp_stack& stack, const std::string& id);

/// POST /v1/refunds; waits until the refund leaves `pending`.
json refund_intent(psp_stack& stack, const std::string& intent_id,
                   int64_t amount_minor);

/// Every balance transaction hash of the stack's merchant, by txn id.
std::map<std::string, std::map<std::string, std::string>>
balance_transactions(psp_stack& stack);

/// The txn id whose `source` is `source` ("" when none).
std::string txn_with_source(psp_stack& stack, const std::string& source);

/// POST /admin/reconciliations with from/to; the answer.
http_reply admin_reconcile(psp_stack& stack, int64_t from_s, int64_t to_s,
                           size_t node = 0);

/// Unix seconds now.
int64_t now_s();

/// The next whole second, returned once it has come: the end of a period
/// that holds everything done before the call and has ended (statements and
/// reconciliations refuse one that has not).
int64_t ended_period_end_s();

} // namespace psp::test
