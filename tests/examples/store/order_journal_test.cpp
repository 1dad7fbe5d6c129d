// Checks the order journal: after a restart the book gets back its orders,
// sessions, statuses, events and remembered event ids, and ord_<n> goes on
// where it stopped; a torn last line is dropped and cut off, any other bad
// line stops the start; a change the log refuses does not happen; and the
// Idempotency-Key of an order never repeats across runs.
#include "order_journal.hpp"
#include "saved_endpoint.hpp"
#include "store_events.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace store;
using namespace store::test;

namespace {

constexpr int64_t now_s = 1'700'000'000;

// A store after a (re)start: its journal and the book replayed from it.
// Members are destroyed book first, so the journal outlives its writer.
struct started_store {
  std::unique_ptr<order_journal> journal;
  std::unique_ptr<order_book> book;
  journal_replay replayed;
  std::string open_error;
};

started_store start(const std::string& path, order_limits limits = {}) {
  started_store s;
  s.journal = order_journal::open(path, s.open_error);
  s.book = std::make_unique<order_book>(limits, s.journal.get());
  if (s.journal) {
    auto* book = s.book.get();
    s.replayed = s.journal->replay(
        [book](std::string_view line) { return book->replay(line); });
  }
  return s;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

void expect_same_order(const order& a, const order& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.idempotency_key, b.idempotency_key);
  EXPECT_EQ(a.product_id, b.product_id);
  EXPECT_EQ(a.product_name, b.product_name);
  EXPECT_EQ(a.quantity, b.quantity);
  EXPECT_EQ(a.amount_minor, b.amount_minor);
  EXPECT_EQ(a.currency, b.currency);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.session_id, b.session_id);
  EXPECT_EQ(a.payment_intent, b.payment_intent);
  EXPECT_EQ(a.checkout_url, b.checkout_url);
  EXPECT_EQ(a.last_failure_message, b.last_failure_message);
  EXPECT_EQ(a.created_unix_s, b.created_unix_s);
  EXPECT_EQ(a.events_dropped, b.events_dropped);
  ASSERT_EQ(a.events.size(), b.events.size()) << a.id;
  for (size_t i = 0; i < a.events.size(); ++i) {
    EXPECT_EQ(a.events[i].id, b.events[i].id);
    EXPECT_EQ(a.events[i].type, b.events[i].type);
    EXPECT_EQ(a.events[i].order_id, b.events[i].order_id);
    EXPECT_EQ(a.events[i].received_unix_s, b.events[i].received_unix_s);
  }
}

// An order_log in memory, which can be told to refuse.
class memory_log : public order_log {
public:
  bool append(const std::string& line) override {
    if (!accept) {
      return false;
    }
    lines.push_back(line);
    return true;
  }
  bool accept = true;
  std::vector<std::string> lines;
};

class order_journal_test : public ::testing::Test {
protected:
  void SetUp() override {
    auto pattern =
        (std::filesystem::temp_directory_path() / "order_journal_test.XXXXXX")
            .string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/store.journal";
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Two orders, the first with a session: three lines.
  void write_two_orders() {
    auto s = start(path_);
    ASSERT_TRUE(s.journal) << s.open_error;
    ASSERT_TRUE(s.book->create(tshirt(), 1, now_s));
    ASSERT_TRUE(s.book->create(mug(), 1, now_s));
    ASSERT_TRUE(s.book->attach_session("ord_1", "cs_1", "pi_1", "u"));
  }

  std::string dir_;
  std::string path_;
};

} // namespace

TEST_F(order_journal_test,
       replay_restores_orders_sessions_statuses_events_and_duplicates) {
  std::vector<order> before;
  std::vector<event_record> events_before;
  {
    auto s = start(path_);
    ASSERT_TRUE(s.journal) << s.open_error;
    EXPECT_EQ(s.replayed.error, "");
    EXPECT_EQ(s.replayed.lines, 0u);
    auto& book = *s.book;
    ASSERT_TRUE(book.create(tshirt(), 2, now_s));
    ASSERT_TRUE(book.create(mug(), 1, now_s + 1));
    ASSERT_TRUE(book.create(tshirt(), 1, now_s + 2));
    ASSERT_TRUE(
        book.attach_session("ord_1", "cs_1", "pi_1", "http://psp/pay/cs_1"));
    ASSERT_TRUE(
        book.attach_session("ord_2", "cs_2", "", "http://psp/pay/cs_2"));
    EXPECT_EQ(
        book.apply(completed("evt_1", "ord_1", "cs_1", "pi_1"), now_s + 10),
        apply_outcome::applied);
    // ord_2 learns its payment intent from this event.
    EXPECT_EQ(book.apply(failed("evt_2", "pi_2", "Card declined.", "ord_2"),
                         now_s + 11),
              apply_outcome::applied);
    EXPECT_EQ(
        book.apply(completed("evt_3", "ord_99", "cs_x", "pi_x"), now_s + 12),
        apply_outcome::unknown_order);
    before = book.snapshot();
    events_before = book.events();
  }

  auto s = start(path_);
  ASSERT_TRUE(s.journal) << s.open_error;
  ASSERT_EQ(s.replayed.error, "");
  EXPECT_FALSE(s.replayed.torn_line_dropped);
  EXPECT_EQ(s.replayed.lines, 8u); // 3 orders, 2 sessions, 3 events
  auto& book = *s.book;
  auto after = book.snapshot();
  ASSERT_EQ(after.size(), 3u);
  for (size_t i = 0; i < after.size(); ++i) {
    expect_same_order(before[i], after[i]);
  }
  EXPECT_EQ(after[0].status, order_status::paid);
  EXPECT_EQ(after[0].amount_minor, 4000);
  EXPECT_EQ(after[0].checkout_url, "http://psp/pay/cs_1");
  EXPECT_EQ(after[1].status, order_status::pending);
  EXPECT_EQ(after[1].payment_intent, "pi_2");
  EXPECT_EQ(after[1].last_failure_message, "Card declined.");
  ASSERT_EQ(after[1].events.size(), 1u);
  EXPECT_EQ(after[1].events[0].received_unix_s, now_s + 11);
  EXPECT_EQ(after[2].status, order_status::pending);
  EXPECT_EQ(after[2].session_id, "");

  auto events = book.events();
  ASSERT_EQ(events.size(), 3u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].id, events_before[i].id);
    EXPECT_EQ(events[i].order_id, events_before[i].order_id);
  }
  EXPECT_EQ(events[2].order_id, "");
  EXPECT_EQ(book.event_ids_remembered(), 3u);
  ASSERT_TRUE(book.find_by_session("cs_2"));
  EXPECT_EQ(book.find_by_session("cs_2")->id, "ord_2");

  // Redeliveries after the restart are still duplicates, matched or not.
  EXPECT_EQ(book.apply(completed("evt_1", "ord_1", "cs_1", "pi_1"), now_s),
            apply_outcome::duplicate);
  EXPECT_EQ(book.apply(completed("evt_3", "ord_99", "cs_x", "pi_x"), now_s),
            apply_outcome::duplicate);
  // The payment intent index came back too: no order id needed.
  EXPECT_EQ(book.apply(failed("evt_4", "pi_2", "Insufficient funds."),
                       now_s + 20),
            apply_outcome::applied);
  EXPECT_EQ(book.find("ord_2")->last_failure_message, "Insufficient funds.");

  // The counter goes on; the next order is journaled after the others.
  auto next = book.create(mug(), 3, now_s + 30);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->id, "ord_4");
}

TEST_F(order_journal_test, a_third_start_sees_what_the_second_added) {
  write_two_orders();
  {
    auto s = start(path_);
    ASSERT_EQ(s.replayed.error, "");
    auto o = s.book->create(tshirt(), 1, now_s);
    ASSERT_TRUE(o);
    EXPECT_EQ(o->id, "ord_3");
    EXPECT_EQ(s.book->apply(completed("evt_1", "ord_3", "cs_3", "pi_3"), now_s),
              apply_outcome::applied);
  }
  auto s = start(path_);
  ASSERT_EQ(s.replayed.error, "");
  EXPECT_EQ(s.replayed.lines, 5u);
  ASSERT_TRUE(s.book->find("ord_3"));
  EXPECT_EQ(s.book->find("ord_3")->status, order_status::paid);
  EXPECT_EQ(s.book->create(mug(), 1, now_s)->id, "ord_4");
}

TEST_F(order_journal_test, an_expired_order_stays_expired_after_replay) {
  write_two_orders();
  {
    auto s = start(path_);
    ASSERT_EQ(s.replayed.error, "");
    EXPECT_EQ(s.book->apply(expired("evt_1", "ord_1", "cs_1"), now_s + 1800),
              apply_outcome::applied);
  }
  auto s = start(path_);
  ASSERT_EQ(s.replayed.error, "");
  EXPECT_EQ(s.book->find("ord_1")->status, order_status::expired);
  EXPECT_EQ(s.book->find("ord_2")->status, order_status::pending);
}

TEST_F(order_journal_test, writes_one_json_line_per_change) {
  {
    auto s = start(path_);
    ASSERT_TRUE(s.journal) << s.open_error;
    auto o = s.book->create(tshirt(), 2, now_s);
    ASSERT_TRUE(o);
    s.book->attach_session("ord_1", "cs_1", "pi_1", "http://psp/pay/cs_1");
    s.book->apply(completed("evt_1", "ord_1", "cs_1", "pi_1"), now_s + 5);
    // A duplicate changes nothing, so it writes nothing.
    s.book->apply(completed("evt_1", "ord_1", "cs_1", "pi_1"), now_s + 6);
  }
  auto text = read_file(path_);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 3u);
  auto created = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(created["change"], "order_created");
  EXPECT_EQ(created["order_id"], "ord_1");
  EXPECT_EQ(created["product_id"], "tshirt");
  EXPECT_EQ(created["quantity"], 2);
  EXPECT_EQ(created["amount_minor"], 4000);
  EXPECT_EQ(created["currency"], "usd");
  EXPECT_EQ(created["status"], "pending");
  EXPECT_EQ(created["created_unix_s"], now_s);
  auto key = created["idempotency_key"].get<std::string>();
  EXPECT_GT(key.size(), std::string("ord_1").size());
  EXPECT_EQ(key.substr(key.size() - 6), "-ord_1");
  auto session = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(session["change"], "session_attached");
  EXPECT_EQ(session["order_id"], "ord_1");
  EXPECT_EQ(session["session_id"], "cs_1");
  EXPECT_EQ(session["payment_intent"], "pi_1");
  auto event = nlohmann::json::parse(lines[2]);
  EXPECT_EQ(event["change"], "event_applied");
  EXPECT_EQ(event["event_id"], "evt_1");
  EXPECT_EQ(event["event_type"], "checkout.session.completed");
  EXPECT_EQ(event["order_id"], "ord_1");
  EXPECT_EQ(event["status"], "paid");
  EXPECT_EQ(event["received_unix_s"], now_s + 5);
}

TEST_F(order_journal_test, torn_last_line_is_dropped_and_cut_off) {
  write_two_orders();
  auto good = read_file(path_);
  const std::string torn =
      R"({"change":"order_created","order_id":"ord_3","id)";
  write_file(path_, good + torn);
  {
    auto s = start(path_);
    ASSERT_EQ(s.replayed.error, "");
    EXPECT_TRUE(s.replayed.torn_line_dropped);
    EXPECT_EQ(s.replayed.torn_bytes, torn.size());
    EXPECT_EQ(s.replayed.lines, 3u);
    EXPECT_EQ(read_file(path_), good);
    EXPECT_EQ(s.book->order_count(), 2u);
    // The next change starts on a line of its own.
    auto o = s.book->create(tshirt(), 1, now_s);
    ASSERT_TRUE(o);
    EXPECT_EQ(o->id, "ord_3");
  }
  auto s = start(path_);
  ASSERT_EQ(s.replayed.error, "");
  EXPECT_FALSE(s.replayed.torn_line_dropped);
  EXPECT_EQ(s.replayed.lines, 4u);
  EXPECT_EQ(s.book->order_count(), 3u);
}

TEST_F(order_journal_test, unparsable_last_line_is_dropped_too) {
  write_two_orders();
  auto good = read_file(path_);
  // A crash of the machine can leave zeros where the last write was.
  write_file(path_, good + std::string(5, '\0') + "\n");
  auto s = start(path_);
  ASSERT_EQ(s.replayed.error, "");
  EXPECT_TRUE(s.replayed.torn_line_dropped);
  EXPECT_EQ(s.replayed.torn_bytes, 6u);
  EXPECT_EQ(read_file(path_), good);
  EXPECT_EQ(s.book->create(mug(), 1, now_s)->id, "ord_3");
}

TEST_F(order_journal_test, a_bad_line_before_the_last_is_an_error) {
  write_two_orders();
  auto lines = lines_of(read_file(path_));
  ASSERT_EQ(lines.size(), 3u);
  auto corrupt = lines[0] + "\n" + "{\"change\":\"order_cre\n" + lines[1] +
                 "\n" + lines[2] + "\n";
  write_file(path_, corrupt);
  auto s = start(path_);
  EXPECT_NE(s.replayed.error.find("line 2"), std::string::npos)
      << s.replayed.error;
  EXPECT_FALSE(s.replayed.torn_line_dropped);
  // Left as it is, for a person to look at.
  EXPECT_EQ(read_file(path_), corrupt);
  EXPECT_FALSE(s.book->create(mug(), 1, now_s)) << "refused before replay";
}

TEST_F(order_journal_test, lines_that_do_not_fit_the_book_are_errors) {
  const std::vector<std::string> bad_last_lines{
      // ord_3 comes next, not ord_5
      R"({"change":"order_created","order_id":"ord_5","idempotency_key":"k",)"
      R"("product_id":"mug","product_name":"Mug","quantity":1,)"
      R"("amount_minor":1200,"currency":"usd","status":"pending",)"
      R"("created_unix_s":1})",
      R"({"change":"session_attached","order_id":"ord_9","session_id":"cs",)"
      R"("payment_intent":"","checkout_url":""})",
      R"({"change":"event_applied","event_id":"evt_1","event_type":"t",)"
      R"("order_id":"ord_9","received_unix_s":1,"status":"paid",)"
      R"("session_id":"","payment_intent":"","last_failure_message":""})",
      R"({"change":"order_deleted","order_id":"ord_1"})",
      R"({"change":"session_attached","order_id":"ord_1"})",
      R"([1,2,3])",
  };
  write_two_orders();
  auto good = read_file(path_);
  for (const auto& line : bad_last_lines) {
    write_file(path_, good + line + "\n");
    auto s = start(path_);
    EXPECT_NE(s.replayed.error.find("line 4"), std::string::npos)
        << line << ": " << s.replayed.error;
    EXPECT_FALSE(s.replayed.torn_line_dropped) << line;
  }
}

TEST_F(order_journal_test, limits_still_hold_after_replay) {
  order_limits limits;
  limits.orders_max = 2;
  limits.event_ids_max = 2;
  limits.events_per_order_max = 1;
  {
    auto s = start(path_, limits);
    ASSERT_TRUE(s.book->create(tshirt(), 1, now_s));
    ASSERT_TRUE(s.book->create(tshirt(), 1, now_s));
    for (int i = 1; i <= 3; ++i) {
      s.book->apply(
          completed("evt_" + std::to_string(i), "ord_1", "cs_1", "pi_1"),
          now_s);
    }
  }
  auto s = start(path_, limits);
  ASSERT_EQ(s.replayed.error, "");
  EXPECT_FALSE(s.book->create(mug(), 1, now_s)) << "orders_max counts "
                                                   "replayed orders";
  EXPECT_EQ(s.book->event_ids_remembered(), 2u);
  EXPECT_EQ(s.book->find("ord_1")->events.size(), 1u);
  EXPECT_EQ(s.book->find("ord_1")->events_dropped, 2u);
  EXPECT_EQ(s.book->apply(completed("evt_3", "ord_1", "cs_1", "pi_1"), now_s),
            apply_outcome::duplicate);
  // evt_1 was forgotten before the restart as it would have been without.
  EXPECT_EQ(s.book->apply(completed("evt_1", "ord_1", "cs_1", "pi_1"), now_s),
            apply_outcome::applied);
}

TEST_F(order_journal_test, a_second_store_cannot_open_a_journal_in_use) {
  std::string error;
  auto first = order_journal::open(path_, error);
  ASSERT_TRUE(first) << error;
  auto second = order_journal::open(path_, error);
  EXPECT_FALSE(second);
  EXPECT_NE(error.find("in use"), std::string::npos) << error;
  first.reset();
  EXPECT_TRUE(order_journal::open(path_, error)) << error;
}

TEST_F(order_journal_test, appends_wait_for_the_replay) {
  std::string error;
  auto journal = order_journal::open(path_, error);
  ASSERT_TRUE(journal) << error;
  EXPECT_FALSE(journal->append("{}"));
  journal->replay([](std::string_view) { return std::string(); });
  EXPECT_TRUE(journal->append("{}"));
  EXPECT_FALSE(journal->append("{}\n{}")) << "one change, one line";
  EXPECT_EQ(read_file(path_), "{}\n");
}

TEST_F(order_journal_test, the_idempotency_key_survives_a_restart) {
  std::string key;
  {
    auto s = start(path_);
    key = s.book->create(tshirt(), 1, now_s)->idempotency_key;
  }
  auto s = start(path_);
  ASSERT_EQ(s.replayed.error, "");
  EXPECT_EQ(s.book->find("ord_1")->idempotency_key, key);
  auto next = s.book->create(tshirt(), 1, now_s);
  EXPECT_EQ(next->idempotency_key.substr(next->idempotency_key.size() - 6),
            "-ord_2");
}

TEST(order_key, without_a_journal_differs_between_books) {
  // Two runs of a store without a journal both start at ord_1; the PSP
  // must not take the second one's key for a retry of the first's.
  order_book first;
  order_book second;
  auto a = first.create(tshirt(), 1, now_s);
  auto b = second.create(tshirt(), 1, now_s);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->id, b->id);
  EXPECT_NE(a->idempotency_key, b->idempotency_key);
  EXPECT_EQ(a->idempotency_key.substr(a->idempotency_key.size() - 6), "-ord_1");
  // Stable within a run, so a retry sends the same key.
  EXPECT_EQ(first.find("ord_1")->idempotency_key, a->idempotency_key);
  EXPECT_NE(first.create(tshirt(), 1, now_s)->idempotency_key,
            a->idempotency_key);
}

TEST(order_log, a_refused_change_does_not_happen) {
  memory_log log;
  order_book book({}, &log);
  log.accept = false;
  EXPECT_FALSE(book.create(tshirt(), 1, now_s));
  EXPECT_EQ(book.order_count(), 0u);
  log.accept = true;
  ASSERT_TRUE(book.create(tshirt(), 1, now_s));
  EXPECT_EQ(book.find("ord_1")->id, "ord_1") << "the refused one used no id";
  log.accept = false;
  EXPECT_FALSE(book.attach_session("ord_1", "cs_1", "pi_1", "u"));
  EXPECT_EQ(book.find("ord_1")->session_id, "");
  EXPECT_FALSE(book.find_by_session("cs_1"));
  EXPECT_EQ(book.apply(completed("evt_1", "ord_1", "cs_1", "pi_1"), now_s),
            apply_outcome::not_recorded);
  EXPECT_EQ(book.find("ord_1")->status, order_status::pending);
  EXPECT_EQ(book.event_ids_remembered(), 0u);
  // Not remembered, so the retry is applied rather than called a duplicate.
  log.accept = true;
  EXPECT_EQ(book.apply(completed("evt_1", "ord_1", "cs_1", "pi_1"), now_s),
            apply_outcome::applied);
  EXPECT_EQ(book.find("ord_1")->status, order_status::paid);
  EXPECT_EQ(log.lines.size(), 2u);
}

TEST(order_log, lines_rebuild_the_same_book_without_a_file) {
  memory_log log;
  order_book book({}, &log);
  book.create(tshirt(), 1, now_s);
  book.attach_session("ord_1", "cs_1", "pi_1", "u");
  book.apply(completed("evt_1", "", "cs_1", ""), now_s);
  order_book copy;
  for (const auto& line : log.lines) {
    EXPECT_EQ(copy.replay(line), "") << line;
  }
  ASSERT_EQ(copy.order_count(), 1u);
  expect_same_order(*book.find("ord_1"), *copy.find("ord_1"));
  EXPECT_EQ(copy.find("ord_1")->status, order_status::paid);
  EXPECT_EQ(copy.replay("not json"), "not a JSON object");
}

// The webhook endpoint saved beside the journal (saved_endpoint.hpp).
TEST_F(order_journal_test, the_saved_endpoint_round_trips_privately) {
  auto path = dir_ + "/store.journal.endpoint";
  std::string error;
  EXPECT_FALSE(load_endpoint(path, error));
  EXPECT_EQ(error, "") << "no file is not an error";
  ASSERT_TRUE(save_endpoint(path, {"we_1", "whsec_abc", "http://s/webhook"},
                            error))
      << error;
  auto back = load_endpoint(path, error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->id, "we_1");
  EXPECT_EQ(back->secret, "whsec_abc");
  EXPECT_EQ(back->url, "http://s/webhook");
  EXPECT_EQ(std::filesystem::status(path).permissions()
                & std::filesystem::perms::all,
            std::filesystem::perms::owner_read
                | std::filesystem::perms::owner_write);
  write_file(path, "{\"id\":\"we_1\"}\n");
  EXPECT_FALSE(load_endpoint(path, error));
  EXPECT_NE(error.find("not a saved webhook endpoint"), std::string::npos)
      << error;
}

