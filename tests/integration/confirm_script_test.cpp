// Goal: the hosted page's one-round-trip confirm builds, inside Redis, a job
// the workers decode to exactly the payment the intent describes: the terms
// the Lua step packs with cmsgpack match job_codec's version-4 layout (same
// fields, same op numbers, the attempt's ordinal in its session), and the
// step the node sends rides along intact.
// Also: it refuses closed, expired and missing sessions before writing, and
// the job lands on the partition of the payment stream that C++ computes for
// its intent (the Lua and C++ hashes agree).

#include "adapters/redis/job_codec.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/lua_partition.hpp"
#include "adapters/redis/redis_connection.hpp"
#include "adapters/redis/scripts.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

namespace psp::test {
namespace {

class confirm_script : public ::testing::Test {
protected:
  redis_server server;
  redis::connection conn{redis::endpoint{"127.0.0.1", server.port()}, 2000};

  void put_session(const std::string& cs, const std::string& pi,
                   const std::string& capture_method,
                   const std::string& expires_at = "4000000000") {
    ASSERT_TRUE(conn.query({"HSET", keys::session(cs), "id", cs,
                            "intent", pi, "status", "open", "expires_at",
                            expires_at}));
    ASSERT_TRUE(conn.query({"HSET", keys::intent(pi), "id", pi,
                            "merchant", "acct_1", "session", cs, "amount",
                            "2599", "currency", "eur", "status",
                            "requires_payment_method", "capture_method",
                            capture_method, "fee_bps", "290",
                            "fee_fixed_minor", "30"}));
  }

  std::optional<redis::value> confirm(const std::string& cs,
                                      const payment_job& step,
                                      const std::string& nonce) {
    return redis::eval(conn, redis::confirm_attempt_script(),
                       {keys::session(cs),
                        keys::attempt(step.attempt_id)},
                       {"1700000000", nonce, step.attempt_id, "visa", "4242",
                        redis::encode_job_step(step),
                        "pm_" + step.attempt_id.substr(3), "12", "2031"});
  }

  /// The job of the newest entry on the intent's partition, decoded.
  std::optional<payment_job> last_queued_job(const std::string& intent_id) {
    auto entries = conn.query({"XREVRANGE",
                               keys::payment_stream_for(intent_id), "+", "-",
                               "COUNT", "1"});
    if (!entries || entries->elements.empty()) {
      return std::nullopt;
    }
    auto& fields = entries->elements[0].elements[1].elements;
    return redis::decode_job(fields.at(1).text());
  }

  /// Entries over every partition of the payment stream.
  int64_t queued_total() {
    int64_t n = 0;
    for (uint32_t p = 0; p < payment_partitions; ++p) {
      n += conn.query({"XLEN", keys::payment_stream(p)})->integer;
    }
    return n;
  }
};

payment_job step_for(const std::string& attempt_id) {
  payment_job step;
  step.attempt_id = attempt_id;
  step.sealed_card = std::string{"\x00\x01sealed\xff", 9};
  return step;
}

TEST_F(confirm_script, queues_the_intents_terms_with_the_nodes_step) {
  put_session("cs_1", "pi_1", "automatic");
  auto out = confirm("cs_1", step_for("pa_1"), "nonce-1");
  ASSERT_TRUE(out && out->is_array()) << (out ? out->str : "no answer");
  ASSERT_EQ(out->elements[0].text(), "ok");

  auto job = last_queued_job("pi_1");
  ASSERT_TRUE(job);
  EXPECT_EQ(queued_total(), 1);
  EXPECT_EQ(job->intent_id, "pi_1");
  EXPECT_EQ(job->merchant_id, "acct_1");
  EXPECT_EQ(job->session_id, "cs_1");
  EXPECT_EQ(job->amount_minor, 2599);
  EXPECT_EQ(job->currency, "eur");
  EXPECT_EQ(job->fee_bps, 290);
  EXPECT_EQ(job->fee_fixed_minor, 30);
  EXPECT_EQ(job->op, payment_op::charge);
  EXPECT_EQ(job->attempt_id, "pa_1");
  EXPECT_EQ(job->sealed_card, step_for("pa_1").sealed_card);
  EXPECT_EQ(job->network_ref, "");
  EXPECT_EQ(job->held_minor, 0);
  EXPECT_EQ(job->page_ordinal, 1u);

  // The attempt record keeps the same bytes for a dead-letter replay.
  auto kept = conn.query({"HGET", keys::attempt("pa_1"), "job"});
  ASSERT_TRUE(kept);
  auto replayed = redis::decode_job(kept->text());
  ASSERT_TRUE(replayed);
  EXPECT_EQ(replayed->attempt_id, "pa_1");
  EXPECT_EQ(replayed->amount_minor, 2599);
  auto kind = conn.query({"HGET", keys::attempt("pa_1"), "kind"});
  EXPECT_EQ(kind->text(), "charge");
  // The typed card is PaymentMethod pm_1: on the intent, expiry on the
  // attempt (never the number).
  auto pm = conn.query({"HGET", keys::intent("pi_1"), "payment_method"});
  EXPECT_EQ(pm->text(), "pm_1");
  auto exp = conn.query({"HMGET", keys::attempt("pa_1"), "exp_month",
                         "exp_year"});
  ASSERT_TRUE(exp && exp->elements.size() == 2);
  EXPECT_EQ(exp->elements[0].text(), "12");
  EXPECT_EQ(exp->elements[1].text(), "2031");
}

TEST_F(confirm_script, each_card_tried_gets_the_next_ordinal) {
  // The ordinal names the attempt at the card network (decision 70): after
  // a decline the next card is the session's second attempt.
  put_session("cs_5", "pi_5", "automatic");
  ASSERT_EQ(confirm("cs_5", step_for("pa_5"), "n1")->elements[0].text(), "ok");
  ASSERT_TRUE(conn.query({"HSET", keys::intent("pi_5"), "status",
                          "requires_payment_method"}));
  ASSERT_EQ(confirm("cs_5", step_for("pa_6"), "n2")->elements[0].text(), "ok");
  auto job = last_queued_job("pi_5");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->attempt_id, "pa_6");
  EXPECT_EQ(job->page_ordinal, 2u);
  auto kept = conn.query({"HGET", keys::attempt("pa_6"), "job"});
  ASSERT_TRUE(kept);
  auto replayed = redis::decode_job(kept->text());
  ASSERT_TRUE(replayed);
  EXPECT_EQ(replayed->page_ordinal, 2u) << "a dead-letter replay keeps it";
}

TEST_F(confirm_script, a_manual_capture_intent_queues_an_authorisation) {
  put_session("cs_2", "pi_2", "manual");
  auto out = confirm("cs_2", step_for("pa_2"), "nonce-2");
  ASSERT_TRUE(out && out->is_array());
  ASSERT_EQ(out->elements[0].text(), "ok");
  auto job = last_queued_job("pi_2");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->op, payment_op::authorize);
  auto kind = conn.query({"HGET", keys::attempt("pa_2"), "kind"});
  EXPECT_EQ(kind->text(), "authorize");
}

TEST_F(confirm_script, the_same_form_again_queues_nothing_more) {
  put_session("cs_3", "pi_3", "automatic");
  ASSERT_EQ(confirm("cs_3", step_for("pa_3"), "n")->elements[0].text(), "ok");
  auto again = confirm("cs_3", step_for("pa_4"), "n");
  ASSERT_TRUE(again && again->is_array());
  EXPECT_EQ(again->elements[0].text(), "duplicate");
  EXPECT_EQ(again->elements[1].text(), "pa_3");
  auto other = confirm("cs_3", step_for("pa_5"), "another tab");
  EXPECT_EQ(other->elements[0].text(), "processing");
  EXPECT_EQ(queued_total(), 1);
  EXPECT_EQ(conn.query({"EXISTS", keys::attempt("pa_4")})->integer, 0);
}

TEST_F(confirm_script, closed_expired_and_missing_sessions_write_nothing) {
  put_session("cs_old", "pi_old", "automatic", "1600000000");
  EXPECT_EQ(confirm("cs_old", step_for("pa_6"), "n")->elements[0].text(),
            "expired");
  EXPECT_EQ(confirm("cs_none", step_for("pa_7"), "n")->elements[0].text(),
            "missing");
  put_session("cs_paid", "pi_paid", "automatic");
  ASSERT_TRUE(conn.query({"HSET", keys::session("cs_paid"), "status",
                          "complete"}));
  auto closed = confirm("cs_paid", step_for("pa_8"), "n");
  EXPECT_EQ(closed->elements[0].text(), "not_open");
  EXPECT_EQ(closed->elements[1].text(), "complete");
  EXPECT_EQ(queued_total(), 0);
}

TEST_F(confirm_script, an_intent_without_terms_is_an_error_not_a_bad_job) {
  ASSERT_TRUE(conn.query({"HSET", keys::session("cs_4"), "id", "cs_4",
                          "intent", "pi_4", "status", "open", "expires_at",
                          "4000000000"}));
  ASSERT_TRUE(conn.query({"HSET", keys::intent("pi_4"), "status",
                          "requires_payment_method"}));
  auto out = confirm("cs_4", step_for("pa_9"), "n");
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->is_error());
  EXPECT_EQ(queued_total(), 0);
}

TEST_F(confirm_script, lua_and_cpp_put_an_intent_on_the_same_partition) {
  auto probe = redis::payment_stream_lua()
               + "local out = {}\n"
                 "for i = 1, #ARGV do out[i] = payment_stream_of(ARGV[i]) end\n"
                 "return out\n";
  std::vector<std::string> ids{"", "pi_", "pi_1", "\xff\xfe\x80"};
  const std::string alphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  uint64_t x = 88172645463325252ULL; // xorshift: the same ids every run
  for (int i = 0; i < 500; ++i) {
    std::string id = "pi_";
    for (int c = 0; c < 24; ++c) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      id += alphabet[x % alphabet.size()];
    }
    ids.push_back(id);
  }
  std::vector<std::string> argv{"EVAL", probe, "0"};
  argv.insert(argv.end(), ids.begin(), ids.end());
  auto out = conn.run(argv);
  ASSERT_TRUE(out && out->is_array()) << (out ? out->str : "no answer");
  ASSERT_EQ(out->elements.size(), ids.size());
  std::vector<int> per_partition(payment_partitions, 0);
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(out->elements[i].text(), keys::payment_stream_for(ids[i]))
      << "id #" << i;
    ++per_partition[payment_partition(ids[i])];
  }
  for (auto n : per_partition) {
    EXPECT_GT(n, 20); // ~42 each: every partition gets a share
  }
}

TEST_F(confirm_script, a_bury_by_a_node_that_lost_its_registration_keeps_the_entry) {
  // A node whose actor ran out of network tries after it stalled past its
  // registration: another node took the entry over and may still commit it.
  auto stream = keys::payment_stream_for("pi_1");
  ASSERT_TRUE(conn.query({"XGROUP", "CREATE", stream, keys::payment_group,
                          "0", "MKSTREAM"}));
  auto entry = conn.query({"XADD", stream, "*", "job", "x"});
  ASSERT_TRUE(entry);
  ASSERT_TRUE(conn.query({"XREADGROUP", "GROUP", keys::payment_group, "n1",
                          "COUNT", "1", "STREAMS", stream, ">"}));
  ASSERT_TRUE(conn.query({"HSET", keys::attempt("pa_1"), "status",
                          "pending"}));
  ASSERT_TRUE(conn.query({"SET", "cluster:node:node-1", "tok-new"}));
  auto bury = [&](const std::string& token) {
    return redis::eval(conn, redis::bury_payment_script(),
                       {stream, keys::dead_letter_stream, keys::attempt("pa_1"),
                        "cluster:node:node-1"},
                       {keys::payment_group, entry->text(), "pa_1", "tries",
                        "1700000000", "pi_1", token});
  };
  auto stale = bury("tok-old");
  ASSERT_TRUE(stale);
  EXPECT_TRUE(stale->is_error() && stale->str.rfind("FENCED", 0) == 0)
    << stale->str;
  EXPECT_EQ(conn.query({"XLEN", stream})->integer, 1) << "entry kept";
  EXPECT_EQ(conn.query({"EXISTS", keys::dead_letter_stream})->integer, 0);
  auto current = bury("tok-new");
  ASSERT_TRUE(current && !current->is_error()) << current->str;
  EXPECT_EQ(conn.query({"XLEN", stream})->integer, 0);
  EXPECT_EQ(conn.query({"XLEN", keys::dead_letter_stream})->integer, 1);
}

} // namespace
} // namespace psp::test
