// Goal: the archiver takes a finished payment out of its seven hashes and
// nothing is lost. Against a real Redis (no node): a due paid checkout is
// packed into one `arc:` string with three `arx:` pointers and reads back
// field for field; a refunded payment is archived and each finished refund
// apart; an entry not yet due, a payment with a webhook still pending, a
// payment being refunded and its pending refund are left as they are (the
// webhook's is asked about again and archived once delivered); a restore
// puts every hash back byte for byte; a script that would change an
// archived payment (a refund, a cancel) has it restored first and then sees
// it as it was; a merchant's payments share one dictionary, another
// merchant gets its own; pointers move to a level of more buckets once the
// first level's are full, and both levels read; two archivers at once archive each payment once; a
// Redis SIGKILLed in the middle of a pass leaves each payment wholly live or
// wholly archived; a payment changed after the archiver's WATCH is not
// archived.

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
#include <atomic>
#include <chrono>
#include <csignal>
#include <optional>
#include <set>
#include <string>
#include <thread>
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

  /// Writes each object with one HSET, fields in order (one without fields
  /// does not exist).
  void write(const std::vector<stored_object>& objects) {
    for (auto& o : objects) {
      if (o.fields.empty()) {
        continue;
      }
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

  /// The archive id the pointer of `key` (pi/cs/charge) holds, "" if none,
  /// and the level it is at (0 if none); expects it at one level at most.
  std::pair<std::string, int> pointer_and_level_of(const std::string& key) {
    auto where = archive::locate(key);
    EXPECT_TRUE(where && !where->pointers.empty()) << key;
    std::pair<std::string, int> out{"", 0};
    for (size_t i = 0; where && i < where->pointers.size(); ++i) {
      auto& p = where->pointers[i];
      auto arc_id = hget(p.bucket, p.field);
      if (!arc_id.empty()) {
        EXPECT_EQ(out.second, 0) << key << ": pointers at two levels";
        out = {arc_id, static_cast<int>(i) + 1};
      }
    }
    return out;
  }

  std::string pointer_of(const std::string& key) {
    return pointer_and_level_of(key).first;
  }

  /// archive:later as (id, score) pairs, soonest first.
  hash later_entries() {
    auto got = conn.query(
      {"ZRANGE", redis::archive_later_key, "0", "-1", "WITHSCORES"});
    hash out;
    for (size_t i = 0; got && i + 1 < got->elements.size(); i += 2) {
      out.emplace_back(got->elements[i].str, got->elements[i + 1].str);
    }
    return out;
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

TEST_F(archive_store, a_pending_webhook_is_asked_about_again_after_its_next_try) {
  auto p = ids_for(4);
  auto objects = paid_payment(p);
  objects[3].fields.back().second = "pending|2|1796038570|HTTP 503";
  ASSERT_EQ(objects[3].key, p.succeeded_event());
  write(objects);
  queue(p.intent);
  // The delivery's next try, two hours on (a failing endpoint's schedule).
  auto delivery = p.succeeded_event().substr(4) + ":" + p.endpoint;
  const int64_t next_try_ms = due_ms + 2 * 3'600'000;
  ASSERT_TRUE(conn.query({"ZADD", keys::deliveries_due,
                          std::to_string(next_try_ms), delivery}));

  auto pass = archive(due_ms);
  EXPECT_EQ(pass.taken, 1u);
  EXPECT_EQ(pass.later, 1u);
  EXPECT_EQ(pass.archived, 0u);
  EXPECT_TRUE(archive_keys().empty());
  for (auto& o : objects) {
    EXPECT_EQ(hgetall(o.key), o.fields) << o.key << " changed";
  }
  // Asked about again a second after that try, not every pass meanwhile,
  // and not from the queue (taken in order: it would hold back the rest).
  EXPECT_TRUE(due_entries().empty());
  const int64_t again_ms = next_try_ms + 1'000;
  EXPECT_EQ(later_entries(),
            (hash{{p.intent, std::to_string(again_ms)}}));
  EXPECT_EQ(archive(again_ms - 1).taken, 0u);

  // That try failed too: the next one is a day later.
  const int64_t next_again_ms = again_ms + 86'400'000;
  ASSERT_TRUE(conn.query({"ZADD", keys::deliveries_due,
                          std::to_string(next_again_ms), delivery}));
  pass = archive(again_ms);
  EXPECT_EQ(pass.taken, 1u);
  EXPECT_EQ(pass.later, 1u);
  EXPECT_EQ(later_entries(),
            (hash{{p.intent, std::to_string(next_again_ms + 1'000)}}));

  // Delivered then: archived at the next look.
  ASSERT_TRUE(conn.query({"HSET", p.succeeded_event(), "wh:" + p.endpoint,
                          "delivered|3|1796038600|"}));
  ASSERT_TRUE(conn.query({"ZREM", keys::deliveries_due, delivery}));
  objects[3].fields.back().second = "delivered|3|1796038600|";
  pass = archive(next_again_ms + 1'000);
  EXPECT_EQ(pass.archived, 1u);
  EXPECT_EQ(archive_keys(), std::vector<std::string>{p.archive_key()});
  EXPECT_TRUE(due_entries().empty());
  EXPECT_TRUE(later_entries().empty());
  expect_reads_back(objects);
}

TEST_F(archive_store, a_pending_webhook_without_a_next_try_waits_the_delay) {
  // Pending, but not (or no longer) in webhooks:due: no try to wait for.
  auto p = ids_for(11);
  auto objects = paid_payment(p);
  objects[4].fields.back().second = "pending|0||";
  write(objects);
  queue(p.intent);
  auto pass = archive(due_ms);
  EXPECT_EQ(pass.later, 1u);
  EXPECT_EQ(later_entries(),
            (hash{{p.intent, std::to_string(due_ms + after_ms)}}));
  // With no delay (the experiments'), never sooner than 5 s.
  auto q = ids_for(12);
  auto others = paid_payment(q);
  others[4].fields.back().second = "pending|0||";
  write(others);
  queue(q.intent);
  pass = redis::archive_due_payments(conn, due_ms + 10, 0, 100);
  EXPECT_EQ(pass.later, 1u);
  auto got = conn.query({"ZSCORE", redis::archive_later_key, q.intent});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->str, std::to_string(due_ms + 10 + 5'000));
}

TEST_F(archive_store, a_refunded_payment_and_its_refunds_are_archived_apart) {
  auto p = ids_for(5);
  auto payment = paid_payment(p);
  payment[0].fields.emplace_back("amount_refunded", "1000");
  payment[0].fields.emplace_back("refund_pending", "0");
  auto ok_suffix = token(501, 24);
  auto failed_suffix = token(502, 24);
  auto refunded = finished_refund(p, ok_suffix, "1000");
  auto refused = finished_refund(p, failed_suffix, "500", "failed");
  write(payment);
  write(refunded);
  write(refused);
  queue(p.intent);
  queue("re_" + ok_suffix);
  queue("re_" + failed_suffix);

  auto pass = archive(due_ms);
  EXPECT_EQ(pass.taken, 3u);
  EXPECT_EQ(pass.archived, 3u);
  EXPECT_EQ(pass.skipped, 0u);
  std::vector<std::string> arcs{p.archive_key(),
                                "arc:" + ok_suffix.substr(0, 12),
                                "arc:" + failed_suffix.substr(0, 12)};
  std::sort(arcs.begin(), arcs.end());
  EXPECT_EQ(archive_keys(), arcs);
  // Refunds need no pointers: every id of theirs names the archive.
  EXPECT_EQ(pointer_count(), 3);
  for (auto* objects : {&payment, &refunded, &refused}) {
    for (auto& o : *objects) {
      EXPECT_EQ(exists(o.key), 0) << o.key;
    }
    expect_reads_back(*objects);
  }
  EXPECT_TRUE(due_entries().empty());

  // A restored refund is queued again, by its own id.
  auto keys = keys_of(refunded);
  ASSERT_TRUE(redis::restore_archive(conn, "arc:" + ok_suffix.substr(0, 12)));
  std::vector<hash> want;
  for (auto& o : refunded) {
    want.push_back(o.fields);
  }
  EXPECT_EQ(hgetall_each(keys), want);
  auto due = due_entries();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].substr(due[0].find('|') + 1), "re_" + ok_suffix);
  EXPECT_EQ(exists(p.archive_key()), 1); // its payment stays archived
  EXPECT_EQ(archive(far_future_ms).archived, 1u);
  expect_reads_back(refunded);
}

TEST_F(archive_store, a_refunding_payment_and_a_pending_refund_stay_live) {
  auto p = ids_for(9);
  auto payment = paid_payment(p);
  payment[0].fields.emplace_back("refund_pending", "1000");
  auto suffix = token(901, 24);
  auto refund = finished_refund(p, suffix);
  refund[0].fields[6].second = "pending"; // status
  refund[1].fields[1].second = "pending";
  refund[1].fields.emplace_back("job", std::string{"\x93\x05\x00", 3});
  refund.resize(2);
  write(payment);
  write(refund);
  queue(p.intent);
  queue("re_" + suffix);
  auto keys = keys_of(payment);
  for (auto& key : keys_of(refund)) {
    keys.push_back(key);
  }
  auto before = hgetall_each(keys);

  auto pass = archive(due_ms);
  EXPECT_EQ(pass.taken, 2u);
  EXPECT_EQ(pass.skipped, 2u);
  EXPECT_EQ(pass.archived, 0u);
  EXPECT_EQ(hgetall_each(keys), before);
  EXPECT_TRUE(archive_keys().empty());
  EXPECT_EQ(pointer_count(), 0);
  EXPECT_EQ(exists("arc:dicts"), 0); // no dictionary for nothing packed
  // Not queued again: the refund's commit step queues both when it ends.
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

TEST_F(archive_store, a_hosted_confirm_of_an_archived_session_leaves_it) {
  // The hosted form submitted again after the payment was archived: closed
  // (the page reads how from the archive), and nothing is restored.
  auto p = ids_for(10);
  auto objects = put_paid(p);
  ASSERT_EQ(archive(due_ms).archived, 1u);
  auto confirm = [this](const std::string& session_id) {
    auto attempt = "pa_" + token(100, 24);
    return redis::eval(conn, redis::confirm_attempt_script(),
                       {keys::session(session_id), keys::attempt(attempt)},
                       {"1796045764", "nonce-1", attempt, "visa", "4242",
                        "job", "pm_" + token(101, 24), "12", "2030"});
  };
  auto out = confirm(p.session);
  ASSERT_TRUE(out) << conn.last_error();
  ASSERT_TRUE(out->is_array()) << out->str;
  ASSERT_EQ(out->elements.size(), 2u);
  EXPECT_EQ(out->elements[0].text(), "not_open");
  EXPECT_EQ(out->elements[1].text(), "archived");
  EXPECT_EQ(exists(p.archive_key()), 1);
  for (auto& o : objects) {
    EXPECT_EQ(exists(o.key), 0) << o.key;
  }
  EXPECT_TRUE(due_entries().empty()); // a restore would have queued it
  EXPECT_TRUE(keys_matching("pa:pa_" + token(100, 24)).empty());

  // A session that never existed is still missing.
  auto none = confirm("cs_test_" + token(102, 24));
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

// Level 1's 4,096 pointer buckets hold 4,096 x 420 pointers as listpacks.
constexpr int64_t level_one_pointers = 4096 * 420;

TEST_F(archive_store, pointers_go_to_more_buckets_once_the_first_are_full) {
  // Past ~2 million pointers in 4,096 buckets Redis turns them into hash
  // tables (~3 times the memory); new pointers then go to 65,536 buckets,
  // and every pointer stays readable where it was written.
  auto early = ids_for(21);
  auto early_objects = put_paid(early);
  ASSERT_EQ(archive(due_ms).archived, 1u);
  EXPECT_EQ(get("archive:pointers_written"), "3");
  for (auto key : {keys::intent(early.intent), keys::session(early.session),
                   "charge:" + early.charge}) {
    EXPECT_EQ(pointer_and_level_of(key).second, 1) << key;
  }

  // One pointer short of full: the next payment still fills level 1, the
  // one after goes to level 2.
  ASSERT_TRUE(conn.query({"SET", "archive:pointers_written",
                          std::to_string(level_one_pointers - 1)}));
  auto last_of_one = ids_for(22);
  auto last_of_one_objects = put_paid(last_of_one);
  ASSERT_EQ(archive(due_ms).archived, 1u);
  auto first_of_two = ids_for(23);
  auto first_of_two_objects = put_paid(first_of_two);
  ASSERT_EQ(archive(due_ms).archived, 1u);
  EXPECT_EQ(get("archive:pointers_written"),
            std::to_string(level_one_pointers + 5));
  auto arc_of = [](const payment_ids& p) {
    return p.suffix.substr(0, archive::archive_id_chars);
  };
  for (auto* p : {&last_of_one, &first_of_two}) {
    int level = p == &last_of_one ? 1 : 2;
    for (auto key : {keys::intent(p->intent), keys::session(p->session),
                     "charge:" + p->charge}) {
      EXPECT_EQ(pointer_and_level_of(key),
                std::make_pair(arc_of(*p), level)) << key;
    }
  }
  EXPECT_EQ(keys_matching("arx:????").size(), 3u); // the level-2 buckets

  // Read from both levels, by C++ and by the scripts' guard.
  expect_reads_back(early_objects);
  expect_reads_back(last_of_one_objects);
  expect_reads_back(first_of_two_objects);
  auto archive_of = redis::make_script(
    "archive_of_test",
    std::string{redis::archive_guard_lua} + "return archive_of(KEYS[1])");
  for (auto* p : {&early, &first_of_two}) {
    auto got = redis::eval(conn, archive_of, {keys::intent(p->intent)}, {});
    ASSERT_TRUE(got) << conn.last_error();
    EXPECT_EQ(got->str, p->archive_key());
  }

  // A restore removes the pointers at whichever level they are; archived
  // again, they are written at the level of now.
  ASSERT_TRUE(redis::restore_archive(conn, first_of_two.archive_key()));
  ASSERT_TRUE(redis::restore_archive(conn, early.archive_key()));
  EXPECT_EQ(pointer_of(keys::intent(first_of_two.intent)), "");
  EXPECT_EQ(pointer_of(keys::intent(early.intent)), "");
  EXPECT_EQ(archive(far_future_ms).archived, 2u);
  EXPECT_EQ(pointer_and_level_of(keys::intent(early.intent)),
            std::make_pair(arc_of(early), 2));
  expect_reads_back(early_objects);
  expect_reads_back(first_of_two_objects);
}

TEST_F(archive_store, an_id_pointed_to_at_a_lower_level_stays_live) {
  // Two ids whose digests agree on a level's digits would read as each
  // other: a payment written at level 2 is not archived when a pointer of
  // level 1 has its digits (as if another id's, written before the switch).
  auto p = ids_for(24);
  auto objects = put_paid(p);
  auto where = archive::locate(keys::session(p.session));
  ASSERT_TRUE(where && where->pointers.size() == 4);
  ASSERT_TRUE(conn.query({"HSET", where->pointers[0].bucket,
                          where->pointers[0].field, "someoneelse1"}));
  ASSERT_TRUE(conn.query({"SET", "archive:pointers_written",
                          std::to_string(level_one_pointers)}));
  auto pass = archive(due_ms);
  EXPECT_EQ(pass.archived, 0u);
  EXPECT_EQ(exists(p.archive_key()), 0);
  for (auto& o : objects) {
    EXPECT_EQ(exists(o.key), 1) << o.key;
  }
  EXPECT_EQ(get("archive:pointers_written"),
            std::to_string(level_one_pointers));
  EXPECT_TRUE(keys_matching("arx:????").empty());
}

// --- Two archivers at once, a Redis killed mid-pass, the WATCH guard --------

/// A payment the tests below write: its ids and its objects as written.
struct written_payment {
  payment_ids ids;
  std::vector<stored_object> objects;
  std::string arc_id() const {
    return ids.suffix.substr(0, archive::archive_id_chars);
  }
};

/// Runs the commands in pipelines of `chunk` (a round trip each) and
/// answers every reply; nullopt (and a failure) on the first error.
std::optional<std::vector<redis::value>>
query_pipelined(redis::connection& c,
                const std::vector<std::vector<std::string>>& commands,
                size_t chunk = 1000) {
  std::vector<redis::value> out;
  for (size_t at = 0; at < commands.size(); at += chunk) {
    auto end = std::min(commands.size(), at + chunk);
    std::vector<std::vector<std::string>> part(
      commands.begin() + static_cast<std::ptrdiff_t>(at),
      commands.begin() + static_cast<std::ptrdiff_t>(end));
    auto got = c.query_all(part);
    if (!got || got->size() != part.size()) {
      ADD_FAILURE() << "pipeline failed: " << c.last_error();
      return std::nullopt;
    }
    for (auto& v : *got) {
      out.push_back(std::move(v));
    }
  }
  return out;
}

/// `n` paid payments over `merchants` merchants (amounts differ), written
/// and queued as finished at finished_ms, in a few round trips.
std::vector<written_payment> write_paid(redis::connection& c, size_t n,
                                        size_t merchants, uint64_t first) {
  std::vector<written_payment> out;
  std::vector<std::vector<std::string>> commands;
  for (size_t i = 0; i < n; ++i) {
    auto merchant = "acct_" + token(900 + i % merchants, 24);
    written_payment p{ids_for(first + i, merchant), {}};
    p.objects = paid_payment(p.ids, std::to_string(1000 + i));
    for (auto& o : p.objects) {
      std::vector<std::string> cmd{"HSET", o.key};
      for (auto& [field, value] : o.fields) {
        cmd.push_back(field);
        cmd.push_back(value);
      }
      commands.push_back(std::move(cmd));
    }
    commands.push_back({"LPUSH", redis::archive_due_key,
                        std::to_string(finished_ms) + "|" + p.ids.intent});
    out.push_back(std::move(p));
  }
  if (!query_pipelined(c, commands)) {
    out.clear();
  }
  return out;
}

/// Where a payment is: how many of its hashes exist, whether its archive
/// does, and what the pointers of its intent, session and charge hold.
struct payment_place {
  size_t live = 0;
  bool archived = false;
  std::vector<std::string> pointers; ///< "" when unset
};

std::vector<payment_place>
places_of(redis::connection& c, const std::vector<written_payment>& payments) {
  std::vector<std::vector<std::string>> commands;
  for (auto& p : payments) {
    for (auto& o : p.objects) {
      commands.push_back({"EXISTS", o.key});
    }
    commands.push_back({"EXISTS", p.ids.archive_key()});
    for (auto& o : p.objects) {
      auto where = archive::locate(o.key);
      if (where && !where->pointers.empty()) {
        // Level 1: these tests archive far fewer than its ~1.7 M pointers.
        commands.push_back({"HGET", where->pointers[0].bucket,
                            where->pointers[0].field});
      }
    }
  }
  std::vector<payment_place> out;
  auto got = query_pipelined(c, commands);
  if (!got) {
    return out;
  }
  size_t at = 0;
  for (auto& p : payments) {
    payment_place place;
    for (size_t i = 0; i < p.objects.size(); ++i) {
      place.live += static_cast<size_t>((*got)[at++].integer);
    }
    place.archived = (*got)[at++].integer == 1;
    for (auto& o : p.objects) {
      auto where = archive::locate(o.key);
      if (where && !where->pointers.empty()) {
        place.pointers.push_back((*got)[at++].str);
      }
    }
    out.push_back(std::move(place));
  }
  return out;
}

/// Each payment wholly live (every hash, no archive, no pointer) or wholly
/// archived (no hash left, its archive, every pointer naming it); answers
/// how many are archived.
size_t expect_all_or_nothing(const std::vector<written_payment>& payments,
                             const std::vector<payment_place>& places) {
  EXPECT_EQ(places.size(), payments.size());
  size_t archived = 0;
  for (size_t i = 0; i < payments.size() && i < places.size(); ++i) {
    auto& p = payments[i];
    auto& at = places[i];
    EXPECT_EQ(at.pointers.size(), 3u) << p.ids.intent;
    if (at.archived) {
      ++archived;
      EXPECT_EQ(at.live, 0u) << p.ids.intent << ": both live and archived";
      for (auto& pointer : at.pointers) {
        EXPECT_EQ(pointer, p.arc_id())
          << p.ids.intent << ": an archive without all its pointers";
      }
    } else {
      EXPECT_EQ(at.live, p.objects.size())
        << p.ids.intent << ": hashes gone but not archived";
      for (auto& pointer : at.pointers) {
        EXPECT_EQ(pointer, "") << p.ids.intent << ": a pointer to nothing";
      }
    }
  }
  return archived;
}

/// read_objects of every payment's keys (100 payments a call) gives the
/// fields written, whether live or archived.
void expect_read_back(redis::connection& c,
                      const std::vector<written_payment>& payments) {
  for (size_t at = 0; at < payments.size(); at += 100) {
    std::vector<std::string> keys;
    std::vector<const stored_object*> want;
    for (size_t i = at; i < payments.size() && i < at + 100; ++i) {
      for (auto& o : payments[i].objects) {
        keys.push_back(o.key);
        want.push_back(&o);
      }
    }
    auto got = redis::read_objects(c, keys);
    ASSERT_TRUE(got) << c.last_error();
    ASSERT_EQ(got->size(), keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      EXPECT_EQ((*got)[i], as_fields(want[i]->fields)) << keys[i];
    }
  }
}

/// The payment's archive holds exactly its objects: same keys, same fields
/// in the same order, byte for byte (unpacked with the dictionary it names).
void expect_archive_holds(redis::connection& c, const written_payment& p) {
  auto blob = c.query({"GET", p.ids.archive_key()});
  ASSERT_TRUE(blob && !blob->is_nil()) << p.ids.archive_key();
  auto id = archive::dictionary_id_of(blob->str);
  ASSERT_TRUE(id) << p.ids.archive_key();
  auto dict = c.query({"GET", "arc:dict:" + std::to_string(*id)});
  ASSERT_TRUE(dict && !dict->is_nil()) << "arc:dict:" << *id;
  auto objects =
    archive::unpack(blob->str, archive::dictionary{*id, dict->str});
  ASSERT_TRUE(objects) << p.ids.archive_key();
  ASSERT_EQ(objects->size(), p.objects.size()) << p.ids.archive_key();
  for (size_t i = 0; i < objects->size(); ++i) {
    EXPECT_EQ((*objects)[i].key, p.objects[i].key);
    EXPECT_EQ((*objects)[i].fields, p.objects[i].fields) << p.objects[i].key;
  }
}

struct pass_totals {
  size_t passes = 0;
  size_t taken = 0;
  size_t archived = 0;
  size_t later = 0;
  size_t skipped = 0;
  size_t failed = 0;

  void add(const redis::archive_pass& pass) {
    ++passes;
    taken += pass.taken;
    archived += pass.archived;
    later += pass.later;
    skipped += pass.skipped;
    failed += pass.failed ? 1 : 0;
  }
};

/// Passes until one takes nothing (or fails; at most `max_passes`).
pass_totals archive_all_due(redis::connection& c, size_t per_pass,
                            size_t max_passes, int64_t now_ms = due_ms) {
  pass_totals totals;
  while (totals.passes < max_passes) {
    auto pass = redis::archive_due_payments(c, now_ms, after_ms, per_pass);
    totals.add(pass);
    if (pass.failed || pass.taken == 0) {
      break;
    }
  }
  return totals;
}

/// Until Redis answers reads again after a restart (-LOADING while it
/// replays its AOF is a failure to query()).
bool wait_until_loaded(redis::connection& c) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (std::chrono::steady_clock::now() < deadline) {
    if (c.query({"EXISTS", redis::archive_due_key})) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return false;
}

TEST_F(archive_store, two_archivers_at_once_archive_each_payment_once) {
  // Each pass pops its entries in one Lua step, so two archivers never take
  // the same payment; if they could, `taken` (and without the WATCH or the
  // commit's free check, `archived`) would sum to more than n below.
  constexpr size_t n = 400;
  constexpr size_t per_pass = 8; // ~50 small passes: the two interleave
  auto payments = write_paid(conn, n, 4, 1000);
  ASSERT_EQ(payments.size(), n);
  ASSERT_EQ(due_entries().size(), n);

  pass_totals totals[2];
  std::atomic<int> started{0};
  auto archiver = [this, &started](pass_totals* out) {
    redis::connection own{redis::endpoint{"127.0.0.1", server.port()}, 2000};
    own.ensure_connected();
    ++started;
    while (started.load() < 2) {
      std::this_thread::yield(); // both start together
    }
    *out = archive_all_due(own, per_pass, 10 * n);
  };
  std::thread first{archiver, &totals[0]};
  std::thread second{archiver, &totals[1]};
  first.join();
  second.join();

  for (auto& t : totals) {
    EXPECT_EQ(t.failed, 0u);
    EXPECT_GT(t.archived, 0u) << "one archiver did all the work";
    EXPECT_EQ(t.later, 0u);
    EXPECT_EQ(t.skipped, 0u);
  }
  EXPECT_EQ(totals[0].taken + totals[1].taken, n);
  EXPECT_EQ(totals[0].archived + totals[1].archived, n);
  EXPECT_TRUE(due_entries().empty());

  // No hash left, one archive per payment and nothing else, its pointers.
  EXPECT_EQ(expect_all_or_nothing(payments, places_of(conn, payments)), n);
  std::vector<std::string> expected;
  for (auto& p : payments) {
    expected.push_back(p.ids.archive_key());
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(archive_keys(), expected);
  EXPECT_EQ(pointer_count(), static_cast<int64_t>(3 * n));
  for (auto& p : payments) {
    expect_archive_holds(conn, p);
  }
  expect_read_back(conn, payments);
}

TEST_F(archive_store, a_redis_killed_while_archiving_loses_nothing) {
  // The commit is one MULTI (the archive, its pointers, the DELs) in an AOF
  // fsynced before each answer: a kill at any point leaves each payment
  // wholly live or wholly archived. A commit split into several writes (or
  // DELs before the SET) would leave hashes gone without an archive, or an
  // archive without its pointers, for the pass the kill interrupts.
  constexpr size_t n = 2000;
  constexpr size_t per_pass = 50;
  auto payments = write_paid(conn, n, 5, 5000);
  ASSERT_EQ(payments.size(), n);

  std::atomic<size_t> acked{0}; // archived as EXEC answered, before the kill
  std::atomic<size_t> passes{0}; // that archived some
  std::atomic<bool> stop{false};
  auto start = std::chrono::steady_clock::now();
  std::thread archiver{[&] {
    redis::connection own{redis::endpoint{"127.0.0.1", server.port()}, 1000};
    while (!stop.load()) {
      auto pass = redis::archive_due_payments(own, due_ms, after_ms, per_pass);
      if (pass.failed) { // Redis gone: try again until stopped
        std::this_thread::sleep_for(std::chrono::milliseconds{2});
        continue;
      }
      acked += pass.archived;
      passes += pass.archived > 0 ? 1 : 0;
      if (pass.taken == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
      }
    }
  }};
  // Killed about half a pass after a third is archived: the archiver is
  // then inside a pass, most likely between its take and its EXEC (a pass
  // just begun has taken nothing yet).
  auto deadline = start + std::chrono::seconds{10};
  while (acked.load() < n / 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds{100});
  }
  auto pass_time = (std::chrono::steady_clock::now() - start)
                   / static_cast<int>(std::max<size_t>(passes.load(), 1));
  std::this_thread::sleep_for(pass_time / 2);
  server.process().signal(SIGKILL);
  stop = true;
  archiver.join(); // every answer it counted came before the kill
  ASSERT_GE(acked.load(), n / 3) << "archiving never got a third through";

  server.restart_after_kill(); // same port, same dir: the AOF replayed
  ASSERT_TRUE(wait_until_loaded(conn)) << conn.last_error();

  auto places = places_of(conn, payments);
  auto archived = expect_all_or_nothing(payments, places);
  // Every commit answered was in the AOF (appendfsync always); at most the
  // pass in flight was written without its answer.
  EXPECT_GE(archived, acked.load());
  EXPECT_LE(archived, acked.load() + per_pass);
  EXPECT_LT(archived, n) << "archiving finished before the kill";
  EXPECT_EQ(archive_keys().size(), archived); // no archive of no payment
  EXPECT_EQ(pointer_count(), static_cast<int64_t>(3 * archived));
  expect_read_back(conn, payments);

  // Every live payment is still queued: on archive:due, or on
  // archive:taking where the killed pass left the entries it had taken
  // (its commit, which would have removed them, never ran).
  std::set<std::string> queued;
  size_t entries = 0;
  for (auto* key : {&redis::archive_due_key, &redis::archive_taking_key}) {
    auto got = conn.query({"LRANGE", *key, "0", "-1"});
    ASSERT_TRUE(got) << conn.last_error();
    for (auto& e : got->elements) {
      queued.insert(e.str.substr(e.str.rfind('|') + 1));
      ++entries;
    }
  }
  EXPECT_EQ(queued.size(), entries) << "a payment queued twice";
  for (size_t i = 0; i < payments.size() && i < places.size(); ++i) {
    auto& intent = payments[i].ids.intent;
    EXPECT_EQ(queued.count(intent), places[i].archived ? 0u : 1u)
      << intent << (places[i].archived ? " archived yet queued"
                                       : " live but in no queue");
  }
  EXPECT_EQ(queued.size(), n - archived);

  // A minute later the next take gives the killed pass's entries back.
  auto rest = archive_all_due(conn, per_pass, 10 * n, due_ms + 61'000);
  EXPECT_TRUE(conn.query({"LRANGE", redis::archive_taking_key, "0", "-1"})
                ->elements.empty());
  EXPECT_EQ(rest.failed, 0u) << conn.last_error();
  EXPECT_EQ(rest.taken, n - archived);
  EXPECT_EQ(rest.archived, n - archived);
  EXPECT_TRUE(due_entries().empty());
  EXPECT_EQ(expect_all_or_nothing(payments, places_of(conn, payments)), n);
  EXPECT_EQ(archive_keys().size(), n);
  EXPECT_EQ(pointer_count(), static_cast<int64_t>(3 * n));
  expect_read_back(conn, payments);
}

TEST_F(archive_store,
       a_payment_changed_between_read_and_write_is_not_archived) {
  // There is no hook between archive_due_payments' read and its write, so
  // the race is played by hand with its commands: WATCH of the payment's
  // keys on the archiver's connection, a change from another, then MULTI +
  // EVALSHA of the commit step + EXEC, which must do nothing.
  auto p = ids_for(30);
  auto objects = put_paid(p);
  auto keys = keys_of(objects);
  ASSERT_EQ(keys.size(), 7u);
  // The merchant's dictionary, as archive_dictionary_script would store it.
  const archive::dictionary dict{1, archive::template_bytes()};
  ASSERT_TRUE(conn.query({"SET", "arc:dict:1", dict.bytes}));

  redis::connection archiver{redis::endpoint{"127.0.0.1", server.port()},
                             2000};
  // Loaded first, as archive_due_payments does: EVALSHA queued in MULTI
  // cannot fall back to EVAL.
  auto& script = redis::archive_commit_script();
  auto loaded = archiver.query({"SCRIPT", "LOAD", script.source});
  ASSERT_TRUE(loaded) << archiver.last_error();
  ASSERT_EQ(loaded->str, script.sha1_hex);
  std::vector<std::string> watch{"WATCH"};
  watch.insert(watch.end(), keys.begin(), keys.end());
  // ARGV as archive_due_payments builds it: now_ms, then per payment its
  // archive id, blob, key count and keys.
  auto commit = [&](const std::vector<stored_object>& packed)
    -> std::optional<redis::value> {
    std::vector<std::string> call{
      "EVALSHA", script.sha1_hex, "0", std::to_string(due_ms),
      p.suffix.substr(0, archive::archive_id_chars),
      archive::pack(packed, dict), std::to_string(packed.size())};
    for (auto& o : packed) {
      call.push_back(o.key);
    }
    auto done = archiver.pipeline({{"MULTI"}, call, {"EXEC"}});
    if (!done || done->size() != 3) {
      return std::nullopt;
    }
    EXPECT_EQ((*done)[1].text(), "QUEUED") << (*done)[1].str;
    return done->back();
  };

  ASSERT_TRUE(archiver.query(watch)) << archiver.last_error();
  std::vector<std::vector<std::string>> read;
  for (auto& key : keys) {
    read.push_back({"HGETALL", key});
  }
  ASSERT_TRUE(archiver.query_all(read)) << archiver.last_error();
  // After the archiver's read, before its write: a refund reserves part of
  // the payment.
  ASSERT_TRUE(
    conn.query({"HSET", keys::intent(p.intent), "refund_pending", "500"}));
  auto exec = commit(objects); // packed from the read: stale now
  ASSERT_TRUE(exec) << archiver.last_error();
  EXPECT_TRUE(exec->is_nil()) << "a commit of a changed payment ran";

  objects[0].fields.emplace_back("refund_pending", "500");
  for (auto& o : objects) {
    EXPECT_EQ(hgetall(o.key), o.fields) << o.key;
  }
  EXPECT_EQ(exists(p.archive_key()), 0);
  EXPECT_TRUE(archive_keys().empty());
  EXPECT_EQ(pointer_count(), 0);

  // The same commit with nothing changed since its WATCH writes the archive
  // (the script does not judge; the archiver does): the nil above is the
  // WATCH's doing, not arguments the script ignored (that answers [0]).
  ASSERT_TRUE(archiver.query(watch)) << archiver.last_error();
  exec = commit(objects);
  ASSERT_TRUE(exec) << archiver.last_error();
  ASSERT_TRUE(exec->is_array()) << exec->str;
  ASSERT_EQ(exec->elements.size(), 1u);
  EXPECT_EQ(exec->elements[0].integer, 1);
  for (auto& o : objects) {
    EXPECT_EQ(exists(o.key), 0) << o.key;
  }
  EXPECT_EQ(archive_keys(), std::vector<std::string>{p.archive_key()});
  EXPECT_EQ(pointer_count(), 3);
  expect_reads_back(objects);
}

} // namespace
} // namespace psp::test
