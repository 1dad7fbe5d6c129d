// Goal: which answers an Idempotency-Key stores for replay (Stripe's rule:
// what an endpoint produced once it started, successes, card errors and
// server errors; never validation, auth or conflict errors), and that the
// request fingerprint ignores parameter order but nothing else.

#include "adapters/http/idempotency.hpp"

#include <gtest/gtest.h>

namespace psp::http {
namespace {

TEST(idempotency_policy, stores_successes_card_errors_and_server_errors) {
  for (int status : {200, 201, 402, 500, 502, 504}) {
    EXPECT_TRUE(stores_answer(status)) << status;
  }
  // 503 is "Redis unreachable, retry with the same key": never replayed.
  for (int status : {400, 401, 403, 404, 409, 413, 422, 429, 503}) {
    EXPECT_FALSE(stores_answer(status)) << status;
  }
}

TEST(idempotency_policy, fingerprint_is_order_independent_but_exact) {
  auto a = request_fingerprint("POST", "/v1/checkout/sessions",
                               "mode=payment&metadata[k]=1");
  auto b = request_fingerprint("POST", "/v1/checkout/sessions",
                               "metadata[k]=1&mode=payment");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, request_fingerprint("POST", "/v1/checkout/sessions",
                                   "mode=payment&metadata[k]=2"));
  EXPECT_NE(a, request_fingerprint("POST", "/v1/webhook_endpoints",
                                   "mode=payment&metadata[k]=1"));
  EXPECT_EQ(a.size(), 64u);
}

} // namespace
} // namespace psp::http
