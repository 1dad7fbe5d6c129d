#pragma once

// What the API handlers share when a request needs the card network: queue
// the step durably (one Lua step), then wait a short, bounded time for its
// outcome so a quick answer (a decline, a capture) comes back in the same
// response, as Stripe's synchronous API does. The step completes anyway if
// the wait runs out; the answer then shows the intent as it stands.

#include "adapters/http/api_context.hpp"
#include "adapters/http/api_errors.hpp"
#include "adapters/http/payment_intent_request.hpp"
#include "adapters/render/objects.hpp"

#include <string>
#include <variant>

namespace httplib {
struct Response;
}

namespace psp::http {

/// Seals the card for a new attempt on `pi` (a bare intent the merchant
/// owns) and queues it; answers the attempt id. A `receipt_email` replaces
/// the intent's in the same step ("" keeps it).
std::variant<std::string, api_error>
submit_attempt(api_context& ctx, const render::fields& pi,
               const payment_method_choice& pm,
               const std::string& receipt_email = {});

/// Polls the op record until it is no longer pending or `wait_ms` passed;
/// true when it finished.
bool await_op(api_context& ctx, const std::string& op_id, uint32_t wait_ms);

/// Reads an intent; an empty map when absent, nullopt when Redis failed.
std::optional<render::fields> read_intent(api_context& ctx,
                                          const std::string& id);

/// The answer after a confirm: 402 card_error with the intent when the
/// attempt was declined, otherwise the intent.
void answer_confirmed(api_context& ctx, const std::string& intent_id,
                      const std::string& attempt_id, httplib::Response& res);

/// Current year and month (UTC), for card expiry checks.
std::pair<int, int> utc_year_month();

} // namespace psp::http
