// Goal: a request head whose body length is malformed or ambiguous, or
// whose names and values could be read two ways, is refused before the
// body is read, with the status a client can act on.

#include "adapters/http/request_framing.hpp"

#include <gtest/gtest.h>

namespace psp::http {
namespace {

constexpr size_t body_max = 64 * 1024;

int status_of(const httplib::Headers& headers) {
  auto e = framing_error("POST", headers, body_max);
  return e ? e->status : 0;
}

TEST(request_framing, a_plain_head_passes) {
  EXPECT_EQ(status_of({}), 0);
  EXPECT_EQ(status_of({{"Content-Length", "24"},
                       {"Authorization", "Bearer sk_test_x"},
                       {"Idempotency-Key", "k-1"},
                       {"User-Agent", "Stripe/v1 NodeBindings/14\tx"},
                       {"REMOTE_ADDR", "127.0.0.1"}}),
            0);
  // The same length twice says one thing.
  EXPECT_EQ(status_of({{"Content-Length", "24"}, {"Content-Length", "24"}}),
            0);
  EXPECT_EQ(status_of({{"Content-Encoding", "Identity"}}), 0);
  EXPECT_EQ(status_of({{"Content-Length", std::to_string(body_max)}}), 0);
}

TEST(request_framing, a_length_read_two_ways_is_400) {
  for (auto bad : {"abc", "0x18", "+24", "-1", " 24", "", "1e3",
                   "1234567890123456789"}) {
    auto e = framing_error("POST", {{"Content-Length", bad}}, body_max);
    ASSERT_TRUE(e) << bad;
    EXPECT_EQ(e->status, 400) << bad;
    EXPECT_EQ(e->type, "invalid_request_error");
    EXPECT_NE(e->message.find("Content-Length"), std::string::npos);
  }
  EXPECT_EQ(status_of({{"Content-Length", "0"}, {"Content-Length", "70"}}),
            400);
}

TEST(request_framing, a_body_over_the_limit_is_refused_before_it_is_read) {
  EXPECT_EQ(status_of({{"Content-Length", std::to_string(body_max + 1)}}),
            413);
  EXPECT_EQ(status_of({{"Content-Length", "1000000000"}}), 413);
}

TEST(request_framing, bodies_the_limit_cannot_bound_are_refused) {
  EXPECT_EQ(status_of({{"Transfer-Encoding", "chunked"}}), 411);
  EXPECT_EQ(status_of({{"Transfer-Encoding", "identity"}}), 411);
  EXPECT_EQ(status_of({{"Content-Encoding", "gzip"}}), 415);
}

TEST(request_framing, a_name_with_a_space_or_a_value_with_a_control_is_400) {
  // cpp-httplib names this header "Transfer-Encoding " and ignores it.
  EXPECT_EQ(status_of({{"Transfer-Encoding ", "chunked"}}), 400);
  EXPECT_EQ(status_of({{"X Y", "1"}}), 400);
  EXPECT_EQ(status_of({{"", "1"}}), 400);
  for (auto bad : {std::string{"Bearer sk_test_x\0junk", 21},
                   std::string{"a\rb"}, std::string{"a\nb"},
                   std::string{"a\x7f"}}) {
    auto e = framing_error("GET", {{"Authorization", bad}}, body_max);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->status, 400);
    EXPECT_EQ(e->message.find("sk_test"), std::string::npos)
      << "the value is never echoed";
  }
}

TEST(request_framing, a_body_the_server_would_not_read_is_400) {
  // cpp-httplib leaves a GET's body unread, to be parsed as the next
  // request.
  for (auto method : {"GET", "HEAD", "OPTIONS", "TRACE"}) {
    auto e = framing_error(method, {{"Content-Length", "40"}}, body_max);
    ASSERT_TRUE(e) << method;
    EXPECT_EQ(e->status, 400) << method;
  }
  EXPECT_FALSE(framing_error("GET", {{"Content-Length", "0"}}, body_max));
  EXPECT_FALSE(framing_error("DELETE", {{"Content-Length", "4"}}, body_max));
}

TEST(request_framing, one_credential_and_one_key_a_request) {
  EXPECT_EQ(status_of({{"Authorization", "Bearer a"},
                       {"authorization", "Bearer b"}}),
            400);
  EXPECT_EQ(status_of({{"Idempotency-Key", "a"}, {"Idempotency-Key", "a"}}),
            400);
}

TEST(request_framing, a_merchant_api_post_takes_no_query_parameters) {
  httplib::Params query{{"amount", "100"}};
  auto e = query_error("POST", "/v1/refunds", query);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 400);
  EXPECT_EQ(e->param, "amount");
  EXPECT_FALSE(query_error("POST", "/v1/refunds", {}));
  EXPECT_FALSE(query_error("GET", "/v1/refunds", query))
    << "a list's filters are in its query";
  EXPECT_FALSE(query_error("POST", "/admin/reconciliations", query))
    << "the admin routes read query or body";
}

TEST(request_framing, a_nul_in_a_query_is_400_for_every_method) {
  auto e = query_error("GET", "/v1/events",
                       {{"type", std::string{"payment_intent.succeeded\0", 25}}});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "type");
  EXPECT_TRUE(query_error("GET", "/admin/dead_letters",
                          {{std::string{"a\0b", 3}, "1"}}));
  EXPECT_FALSE(query_error("GET", "/v1/events", {{"type", "charge.refunded"}}));
}

} // namespace
} // namespace psp::http
