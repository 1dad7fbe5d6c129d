// Goal: jobs survive the payment stream byte format, including the fields of
// captures, voids and refunds, and entries written by an older node (version
// 1, charges only; version 2, one array; version 3, without the page
// ordinal) still decode. A split job missing its step, or with bytes after
// it, is refused.

#include "adapters/redis/job_codec.hpp"

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include <sstream>

namespace psp::redis {
namespace {

TEST(job_codec, round_trips_every_field_of_an_op) {
  payment_job job;
  job.intent_id = "pi_1";
  job.attempt_id = "re_1";
  job.merchant_id = "acct_1";
  job.amount_minor = 700;
  job.currency = "eur";
  job.fee_bps = 290;
  job.fee_fixed_minor = 30;
  job.op = payment_op::refund;
  job.network_ref = "ch_9";
  job.held_minor = 1200;
  auto back = decode_job(encode_job(job));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->attempt_id, "re_1");
  EXPECT_EQ(back->op, payment_op::refund);
  EXPECT_EQ(back->network_ref, "ch_9");
  EXPECT_EQ(back->held_minor, 1200);
  EXPECT_EQ(back->amount_minor, 700);
}

TEST(job_codec, version_1_entries_decode_as_charges) {
  std::tuple<int, std::string, std::string, std::string, std::string, int64_t,
             std::string, int32_t, int64_t, std::string>
    v1{1, "pi_1", "pa_1", "acct_1", "cs_1", 2000, "usd", 290, 30, "sealed"};
  std::stringstream buf;
  msgpack::pack(buf, v1);
  auto job = decode_job(buf.str());
  ASSERT_TRUE(job);
  EXPECT_EQ(job->op, payment_op::charge);
  EXPECT_EQ(job->session_id, "cs_1");
  EXPECT_EQ(job->sealed_card, "sealed");
}

TEST(job_codec, version_2_entries_decode_with_their_op) {
  std::tuple<int, std::string, std::string, std::string, std::string, int64_t,
             std::string, int32_t, int64_t, std::string, uint8_t, std::string,
             int64_t>
    v2{2,     "pi_1", "pa_1", "acct_1", "cs_1", 2000, "usd", 290, 30,
       "sealed", static_cast<uint8_t>(payment_op::capture), "ch_1", 2000};
  std::stringstream buf;
  msgpack::pack(buf, v2);
  auto job = decode_job(buf.str());
  ASSERT_TRUE(job);
  EXPECT_EQ(job->op, payment_op::capture);
  EXPECT_EQ(job->network_ref, "ch_1");
  EXPECT_EQ(job->held_minor, 2000);
  EXPECT_EQ(job->attempt_id, "pa_1");
}

TEST(job_codec, a_version_3_job_needs_exactly_its_step) {
  payment_job job;
  job.intent_id = "pi_1";
  job.attempt_id = "pa_1";
  auto bytes = encode_job(job);
  auto step = encode_job_step(job);
  ASSERT_GT(bytes.size(), step.size());
  auto terms_only = bytes.substr(0, bytes.size() - step.size());
  EXPECT_FALSE(decode_job(terms_only));
  EXPECT_FALSE(decode_job(bytes + step));
  EXPECT_TRUE(decode_job(terms_only + step));
}

TEST(job_codec, a_page_attempts_ordinal_rides_with_its_terms) {
  payment_job job;
  job.intent_id = "pi_1";
  job.session_id = "cs_1";
  job.attempt_id = "pa_1";
  job.page_ordinal = 7;
  auto back = decode_job(encode_job(job));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->page_ordinal, 7u);
  EXPECT_EQ(back->attempt_id, "pa_1");
}

TEST(job_codec, version_3_entries_decode_without_an_ordinal) {
  std::tuple<int, std::string, std::string, std::string, int64_t, std::string,
             int32_t, int64_t, uint8_t>
    terms{3, "pi_1", "acct_1", "cs_1", 2000, "usd", 290, 30,
          static_cast<uint8_t>(payment_op::authorize)};
  payment_job step;
  step.attempt_id = "pa_1";
  step.sealed_card = "sealed";
  std::stringstream buf;
  msgpack::pack(buf, terms);
  auto job = decode_job(buf.str() + encode_job_step(step));
  ASSERT_TRUE(job);
  EXPECT_EQ(job->op, payment_op::authorize);
  EXPECT_EQ(job->session_id, "cs_1");
  EXPECT_EQ(job->sealed_card, "sealed");
  EXPECT_EQ(job->page_ordinal, 0u);
}

TEST(job_codec, garbage_and_unknown_versions_are_refused) {
  EXPECT_FALSE(decode_job("not msgpack"));
  std::stringstream buf;
  msgpack::pack(buf, std::make_tuple(9, std::string{"x"}));
  EXPECT_FALSE(decode_job(buf.str()));
}

} // namespace
} // namespace psp::redis
