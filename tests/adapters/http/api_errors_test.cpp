// Goal: a URL that names an object by an id our ids never look like gets
// Stripe's 404 resource_missing for that object, while a URL we do not
// serve at all stays "Unrecognized request URL".

#include "adapters/http/api_errors.hpp"

#include <gtest/gtest.h>

namespace psp::http {
namespace {

TEST(missing_object_error, ids_no_object_can_have_are_missing_objects) {
  auto e = missing_object_error("GET", "/v1/payment_methods/pm_\xC3\xA9");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 404);
  EXPECT_EQ(e->code, "resource_missing");
  EXPECT_EQ(e->param, "id");
  EXPECT_EQ(e->message, "No such payment_method: 'pm_\xC3\xA9'");
  e = missing_object_error("POST", "/v1/checkout/sessions/cs test/expire");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "No such checkout.session: 'cs test'");
  e = missing_object_error("POST", "/v1/payment_intents/pi_*/confirm");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "No such payment_intent: 'pi_*'");
  e = missing_object_error("DELETE", "/v1/webhook_endpoints/we_*");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "No such webhook_endpoint: 'we_*'");
}

TEST(missing_object_error, urls_we_do_not_serve_stay_unrecognized) {
  // An update of an intent, with an id of our alphabet: not a missing id.
  EXPECT_FALSE(missing_object_error("POST", "/v1/payment_intents/pi_123"));
  EXPECT_FALSE(missing_object_error("GET", "/v1/payment_intents/"));
  EXPECT_FALSE(missing_object_error("GET", "/v1/customers/cus_\xC3\xA9"));
  EXPECT_FALSE(missing_object_error("GET", "/pay/cs_\xC3\xA9"));
  // Whatever the id looks like, a method or sub-path we do not serve.
  EXPECT_FALSE(missing_object_error("POST", "/v1/payment_intents/pi_\xC3\xA9"));
  EXPECT_FALSE(missing_object_error("DELETE", "/v1/payment_intents/pi_*"));
  EXPECT_FALSE(missing_object_error("GET", "/v1/payment_intents/pi_*/bogus"));
  EXPECT_FALSE(missing_object_error("POST", "/v1/refunds/re_*"));
}

} // namespace
} // namespace psp::http
