// Goal: the archiver takes a finished payment out of its seven hashes and
// nothing is lost. Against a real Redis (no node): a due paid checkout is
// packed into one `arc:` string with three `arx:` pointers and reads back
// field for field; an entry not yet due, a payment with a webhook still
// pending and a refunded payment are left as they are (the pending one is
// asked about again and archived once delivered); a restore puts every hash
// back byte for byte; a script that would change an archived payment (a
// refund, a cancel) has it restored first and then sees it as it was; a
// merchant's payments share one dictionary, another merchant gets its own.

#include "adapters/archive/archive_codec.hpp"
#include "adapters/archive/archive_locator.hpp"
#include "adapters/redis/archive_scripts.hpp"
#include "adapters/redis/archive_store.hpp"
#include "adapters/redis/job_codec.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/redis_connection.hpp"
#include "adapters/redis/scripts.hpp"
#include "tests/support/archive_payments.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace psp::test {
namespace {

using archive::stored_object;
using hash = std::vector<std::pair<std::string, std::string>>;

// When the payments of these tests finished, and how long the archiver
// waits after that (the node's setting is of this order).
constexpr int64_t finished_ms = 1'796'038'564'000;
constexpr int64_t after_ms = 3'600'000;
constexpr int64_t due_ms = finished_ms + 2 * after_ms;
// Past anything the wall clock gives (a restore queues at the real now).
constexpr int64_t far_future_ms = 4'000'000'000'000;

const std::string merchant_a = default_merchant;
const std::string merchant_b = "acct_Bb7Lk2QmW9xYz4RtPv8sNc3D";

std::vector<std::string> keys_of(const std::vector<stored_object>& objects) {
  std::vector<std::string> out;
  for (auto& o : objects) {
    out.push_back(o.key);
  }
  return out;
}

render::fields as_fields(const hash& h) {
  return render::fields(h.begin(), h.end());
}

class archive_store : public ::testing::Test {
protected:
  redis_server server;
  redis::connection conn{redis::endpoint{"127.0.0.1", server.port()}, 2000};

  /// Writes each object with one HSET, fields in order.
  void write(const std::vector<stored_object>& objects) {
    for (auto& o : objects) {
      std::vector<std::string> cmd{"HSET", o.key};
      for (auto& [field, value] : o.fields) {
        cmd.push_back(field);
        cmd.push_back(value);
      }
      ASSERT_TRUE(conn.query(cmd)) << o.key << ": " << conn.last_error();
    }
  }

  /// As the commit step does when a payment finishes (LPUSH: oldest last).
  void queue(const std::string& intent_id, int64_t at_ms = finished_ms) {
    ASSERT_TRUE(conn.query({"LPUSH", redis::archive_due_key,
                            std::to_string(at_ms) + "|" + intent_id}));
  }

  /// A paid payment written and queued as finished at `finished_ms`.
  std::vector<stored_object> put_paid(const payment_ids& p) {
    auto objects = paid_payment(p);
    write(objects);
    queue(p.intent);
    return objects;
  }

  hash hgetall(const std::string& key) {
    auto got = conn.query({"HGETALL", key});
    EXPECT_TRUE(got) << conn.last_error();
    hash out;
    for (size_t i = 0; got && i + 1 < got->elements.size(); i += 2) {
      out.emplace_back(got->elements[i].str, got->elements[i + 1].str);
    }
    return out;
  }

  std::vector<hash> hgetall_each(const std::vector<std::string>& keys) {
    std::vector<hash> out;
    for (auto& key : keys) {
      out.push_back(hgetall(key));
    }
    return out;
  }

  int64_t exists(const std::string& key) {
    auto got = conn.query({"EXISTS", key});
    return got ? got->integer : -1;
  }

  std::string get(const std::string& key) {
    auto got = conn.query({"GET", key});
    return got ? got->str : "";
  }

  std::string hget(const std::string& key, const std::string& field) {
    auto got = conn.query({"HGET", key, field});
    return got ? got->str : "";
  }

  std::vector<std::string> keys_matching(const std::string& pattern) {
    auto got = conn.query({"KEYS", pattern}); // a private server: KEYS is fine
    std::vector<std::string> out;
    for (size_t i = 0; got && i < got->elements.size(); ++i) {
      out.push_back(got->elements[i].str);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  /// The archives themselves, without the dictionaries (`arc:dict...`).
  std::vector<std::string> archive_keys() {
    auto all = keys_matching("arc:*");
    all.erase(std::remove_if(all.begin(), all.end(),
                             [](const std::string& k) {
                               return k.rfind("arc:dict", 0) == 0;
                             }),
              all.end());
    return all;
  }

  /// Pointers over every `arx:` bucket.
  int64_t pointer_count() {
    int64_t n = 0;
    for (auto& bucket : keys_matching("arx:*")) {
      n += conn.query({"HLEN", bucket})->integer;
    }
    return n;
  }

  /// The archive id the pointer of `key` (pi/cs/charge) holds, "" if none.
  std::string pointer_of(const std::string& key) {
    auto where = archive::locate(key);
    EXPECT_TRUE(where && !where->pointer_bucket.empty()) << key;
    return where ? hget(where->pointer_bucket, where->pointer_field) : "";
  }

  std::vector<std::string> due_entries() {
    auto got = conn.query({"LRANGE", redis::archive_due_key, "0", "-1"});
    std::vector<std::string> out;
    for (size_t i = 0; got && i < got->elements.size(); ++i) {
      out.push_back(got->elements[i].str);
    }
    return out;
  }

  redis::archive_pass archive(int64_t now_ms, size_t max = 100) {
    auto pass = redis::archive_due_payments(conn, now_ms, after_ms, max);
    EXPECT_FALSE(pass.failed) << conn.last_error();
    return pass;
  }

  void expect_reads_back(const std::vector<stored_object>& objects) {
    for (auto& o : objects) {
      auto one = redis::read_object(conn, o.key);
      ASSERT_TRUE(one) << o.key;
      EXPECT_EQ(*one, as_fields(o.fields)) << o.key;
    }
  }
};

TEST_F(archive_store, a_due_payment_is_archived_and_reads_back_exactly) {
  auto p = ids_for(1);
  auto objects = put_paid(p);
  ASSERT_EQ(objects.size(), 7u);

  auto pass = archive(due_ms);
  EXPECT_EQ(pass.taken, 1u);
  EXPECT_EQ(pass.archived, 1u);
  EXPECT_EQ(pass.later, 0u);
  EXPECT_EQ(pass.skipped, 0u);
  EXPECT_GT(pass.packed_bytes, 0u);

  for (auto& o : objects) {
    EXPECT_EQ(exists(o.key), 0) << o.key << " still a hash";
  }
  EXPECT_EQ(archive_keys(), std::vector<std::string>{p.archive_key()});
  // Intent, session and charge point to it; the others name it by suffix.
  EXPECT_EQ(pointer_count(), 3);
  auto arc_id = p.suffix.substr(0, archive::archive_id_chars);
  EXPECT_EQ(pointer_of(keys::intent(p.intent)), arc_id);
  EXPECT_EQ(pointer_of(keys::session(p.session)), arc_id);
  EXPECT_EQ(pointer_of("charge:" + p.charge), arc_id);
  // The merchant's first dictionary, made of this one payment.
  EXPECT_EQ(hget("arc:dicts", p.merchant), "1|1");
  EXPECT_EQ(get("arc:dict:next"), "1");
  EXPECT_EQ(get("arc:dict:1"), archive::dictionary_bytes_for({objects}));
  EXPECT_EQ(archive::dictionary_id_of(get(p.archive_key())), 1u);
  EXPECT_TRUE(due_entries().empty());

  expect_reads_back(objects);
  // All at once, with keys that were never written: one archived key's
  // neighbour (same arc key, not in the blob), an unknown intent, a refund.
  auto keys = keys_of(objects);
  keys.push_back("evt:evt_" + p.suffix + "X");
  keys.push_back(keys::intent("pi_" + token(999, 24)));
  keys.push_back(keys::refund("re_" + token(998, 24)));
  auto all = redis::read_objects(conn, keys);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), keys.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    EXPECT_EQ((*all)[i], as_fields(objects[i].fields)) << keys[i];
  }
  for (size_t i = objects.size(); i < keys.size(); ++i) {
    EXPECT_TRUE((*all)[i].empty()) << keys[i];
  }
}

TEST_F(archive_store, an_unreadable_archive_is_an_error_not_a_missing_object) {
  // A page that renders "no such payment" for an archived one would lie:
  // without its dictionary the read fails instead.
  auto p = ids_for(9);
  put_paid(p);
  ASSERT_EQ(archive(due_ms).archived, 1u);
  ASSERT_TRUE(conn.query({"RENAME", "arc:dict:1", "arc:dict:lost"}));
  EXPECT_FALSE(redis::read_object(conn, keys::intent(p.intent)));
  EXPECT_FALSE(redis::read_object(conn, keys::attempt(p.attempt())));
  EXPECT_FALSE(redis::restore_archive(conn, p.archive_key()));
  EXPECT_EQ(exists(p.archive_key()), 1); // kept for when it is found again

  ASSERT_TRUE(conn.query({"RENAME", "arc:dict:lost", "arc:dict:1"}));
  auto back = redis::read_object(conn, keys::intent(p.intent));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->at("status"), "succeeded");
}

TEST_F(archive_store, an_entry_not_yet_due_is_not_taken) {
  auto p = ids_for(2);
  auto objects = put_paid(p);
  auto later = ids_for(3);
  auto later_objects = paid_payment(later);
  write(later_objects);
  queue(later.intent, finished_ms + 600'000);

  EXPECT_EQ(archive(finished_ms + after_ms - 1).taken, 0u);
  EXPECT_EQ(due_entries().size(), 2u);
  EXPECT_EQ(exists(keys::intent(p.intent)), 1);
  EXPECT_TRUE(archive_keys().empty());

  // Due exactly after_ms after it finished; the newer one waits its turn.
  auto pass = archive(finished_ms + after_ms);
  EXPECT_EQ(pass.taken, 1u);
  EXPECT_EQ(pass.archived, 1u);
  EXPECT_EQ(archive_keys(), std::vector<std::string>{p.archive_key()});
  EXPECT_EQ(due_entries(), std::vector<std::string>{
                             std::to_string(finished_ms + 600'000) + "|"
                             + later.intent});
  EXPECT_EQ(exists(keys::intent(later.intent)), 1);
}

TEST_F(archive_store, a_pending_webhook_is_asked_about_again_until_delivered) {
  auto p = ids_for(4);
  auto objects = paid_payment(p);
  objects[3].fields.back().second = "pending|2|1796038570|HTTP 503";
  ASSERT_EQ(objects[3].key, p.succeeded_event());
  write(objects);
  queue(p.intent);

  auto pass = archive(due_ms);
  EXPECT_EQ(pass.taken, 1u);
  EXPECT_EQ(pass.later, 1u);
  EXPECT_EQ(pass.archived, 0u);
  EXPECT_TRUE(archive_keys().empty());
  for (auto& o : objects) {
    EXPECT_EQ(hgetall(o.key), o.fields) << o.key << " changed";
  }
  // Queued again as of this pass: not due again until after_ms from now.
  EXPECT_EQ(due_entries(), std::vector<std::string>{
                             std::to_string(due_ms) + "|" + p.intent});
  EXPECT_EQ(archive(due_ms + 1).taken, 0u);

  // The delivery worker records the delivery.
  ASSERT_TRUE(conn.query({"HSET", p.succeeded_event(), "wh:" + p.endpoint,
                          "delivered|3|1796038600|"}));
  objects[3].fields.back().second = "delivered|3|1796038600|";
  pass = archive(due_ms + after_ms);
  EXPECT_EQ(pass.archived, 1u);
  EXPECT_EQ(archive_keys(), std::vector<std::string>{p.archive_key()});
  EXPECT_TRUE(due_entries().empty());
  expect_reads_back(objects);
}

TEST_F(archive_store, a_refunded_payment_is_skipped_and_left_untouched) {
  auto p = ids_for(5);
  auto objects = paid_payment(p);
  objects[0].fields.emplace_back("amount_refunded", "2500");
  write(objects);
  queue(p.intent);
  auto before = hgetall_each(keys_of(objects));

  auto pass = archive(due_ms);
  EXPECT_EQ(pass.taken, 1u);
  EXPECT_EQ(pass.skipped, 1u);
  EXPECT_EQ(pass.archived, 0u);
  EXPECT_EQ(pass.later, 0u);
  EXPECT_EQ(hgetall_each(keys_of(objects)), before);
  EXPECT_TRUE(archive_keys().empty());
  EXPECT_EQ(pointer_count(), 0);
  EXPECT_EQ(exists("arc:dicts"), 0); // no dictionary for nothing packed
  // Never archivable: not queued again.
  EXPECT_TRUE(due_entries().empty());
}

TEST_F(archive_store, a_restore_puts_every_hash_back_exactly) {
  auto p = ids_for(6);
  auto objects = put_paid(p);
  auto keys = keys_of(objects);
  auto before = hgetall_each(keys);
  ASSERT_EQ(archive(due_ms).archived, 1u);

  ASSERT_TRUE(redis::restore_archive(conn, p.archive_key()));
  // Field for field, in the same order, byte for byte.
  EXPECT_EQ(hgetall_each(keys), before);
  EXPECT_EQ(exists(p.archive_key()), 0);
  EXPECT_EQ(pointer_count(), 0);
  EXPECT_TRUE(keys_matching("arx:*").empty());
  // Queued to be archived again, as of the restore.
  auto due = due_entries();
  ASSERT_EQ(due.size(), 1u);
  auto bar = due[0].find('|');
  ASSERT_NE(bar, std::string::npos);
  EXPECT_EQ(due[0].substr(bar + 1), p.intent);
  EXPECT_GT(std::stoll(due[0].substr(0, bar)), 0);

  // Once more: the archive is gone, nothing to do, nothing changes.
  EXPECT_TRUE(redis::restore_archive(conn, p.archive_key()));
  EXPECT_EQ(hgetall_each(keys), before);
  EXPECT_EQ(due_entries().size(), 1u);

  // And the restored payment is archived again by a later pass.
  EXPECT_EQ(archive(far_future_ms).archived, 1u);
  EXPECT_EQ(exists(p.archive_key()), 1);
  expect_reads_back(objects);
}

TEST_F(archive_store, a_refund_of_an_archived_payment_restores_it_first) {
  auto p = ids_for(7);
  auto objects = put_paid(p);
  ASSERT_EQ(archive(due_ms).archived, 1u);
  ASSERT_EQ(exists(keys::intent(p.intent)), 0);

  // As refund_routes.cpp asks for a refund of part of the payment.
  auto re_id = "re_" + token(70, 24);
  payment_job job;
  job.intent_id = p.intent;
  job.attempt_id = re_id;
  job.merchant_id = p.merchant;
  job.amount_minor = 1000;
  job.currency = "usd";
  job.op = payment_op::refund;
  job.network_ref = p.charge;
  auto out = redis::eval(
    conn, redis::request_op_script(),
    {keys::intent(p.intent), keys::attempt(re_id),
     keys::payment_stream_for(p.intent), keys::refund(re_id),
     keys::deliveries_due},
    {"refund", re_id, "1000", redis::encode_job(job), "1796045764",
     std::to_string(due_ms), p.merchant, "requested_by_customer", "{}",
     "evt_" + token(71, 24) + "N", ""});
  ASSERT_TRUE(out) << conn.last_error();
  ASSERT_TRUE(out->is_array()) << out->str;
  ASSERT_FALSE(out->elements.empty());
  EXPECT_EQ(out->elements[0].text(), "ok");

  // Restored, then refunded: the reservation is on the live intent.
  EXPECT_EQ(hget(keys::intent(p.intent), "refund_pending"), "1000");
  EXPECT_EQ(hget(keys::refund(re_id), "status"), "pending");
  EXPECT_EQ(hget(keys::refund(re_id), "charge"), p.charge);
  EXPECT_EQ(exists(p.archive_key()), 0);
  EXPECT_EQ(pointer_count(), 0);
  for (size_t i = 1; i < objects.size(); ++i) {
    EXPECT_EQ(hgetall(objects[i].key), objects[i].fields) << objects[i].key;
  }
  EXPECT_EQ(conn.query({"XLEN", keys::payment_stream_for(p.intent)})->integer,
            1);

  // Queued again by the restore, but a refunding payment stays live.
  ASSERT_EQ(due_entries().size(), 1u);
  auto pass = archive(far_future_ms);
  EXPECT_EQ(pass.skipped, 1u);
  EXPECT_EQ(pass.archived, 0u);
  EXPECT_EQ(exists(keys::intent(p.intent)), 1);
}

TEST_F(archive_store, a_cancel_of_an_archived_paid_intent_sees_its_state) {
  // An intent made through the API (no session): the cancel step answers
  // by its status, so an archived one must not look missing.
  auto p = ids_for(8);
  p.session.clear();
  auto objects = put_paid(p);
  ASSERT_EQ(objects.size(), 6u);
  ASSERT_EQ(archive(due_ms).archived, 1u);
  EXPECT_EQ(pointer_count(), 2); // intent and charge
  ASSERT_EQ(exists(keys::intent(p.intent)), 0);

  auto cancel = [this](const std::string& intent_id) {
    return redis::eval(conn, redis::cancel_intent_script(),
                       {keys::intent(intent_id), keys::deliveries_due},
                       {"1796045764", std::to_string(due_ms),
                        "requested_by_customer",
                        "evt_" + token(80, 24) + "X", merchant_a});
  };
  auto out = cancel(p.intent);
  ASSERT_TRUE(out) << conn.last_error();
  ASSERT_TRUE(out->is_array()) << out->str;
  ASSERT_EQ(out->elements.size(), 2u);
  EXPECT_EQ(out->elements[0].text(), "state");
  EXPECT_EQ(out->elements[1].text(), "succeeded");
  EXPECT_EQ(hget(keys::intent(p.intent), "status"), "succeeded");
  expect_reads_back(objects);

  // An intent that never existed is still missing.
  auto none = cancel("pi_" + token(81, 24));
  ASSERT_TRUE(none && none->is_array() && !none->elements.empty());
  EXPECT_EQ(none->elements[0].text(), "missing");
}

TEST_F(archive_store, a_merchants_payments_share_one_dictionary) {
  auto a1 = ids_for(10, merchant_a);
  auto a2 = ids_for(11, merchant_a);
  auto b1 = ids_for(12, merchant_b);
  auto a1_objects = put_paid(a1);
  auto a2_objects = put_paid(a2);
  auto b1_objects = put_paid(b1);

  auto pass = archive(due_ms);
  EXPECT_EQ(pass.taken, 3u);
  EXPECT_EQ(pass.archived, 3u);
  EXPECT_EQ(conn.query({"HLEN", "arc:dicts"})->integer, 2);
  EXPECT_EQ(get("arc:dict:next"), "2");

  auto a1_dict = archive::dictionary_id_of(get(a1.archive_key()));
  auto a2_dict = archive::dictionary_id_of(get(a2.archive_key()));
  auto b1_dict = archive::dictionary_id_of(get(b1.archive_key()));
  ASSERT_TRUE(a1_dict && a2_dict && b1_dict);
  EXPECT_EQ(*a1_dict, *a2_dict);
  EXPECT_NE(*a1_dict, *b1_dict);
  EXPECT_EQ(hget("arc:dicts", merchant_a), std::to_string(*a1_dict) + "|2");
  EXPECT_EQ(hget("arc:dicts", merchant_b), std::to_string(*b1_dict) + "|1");
  // Made of the merchant's own payments, oldest (taken first) first.
  EXPECT_EQ(get("arc:dict:" + std::to_string(*a1_dict)),
            archive::dictionary_bytes_for({a1_objects, a2_objects}));
  EXPECT_EQ(get("arc:dict:" + std::to_string(*b1_dict)),
            archive::dictionary_bytes_for({b1_objects}));

  expect_reads_back(a1_objects);
  expect_reads_back(a2_objects);
  expect_reads_back(b1_objects);
}

} // namespace
} // namespace psp::test
