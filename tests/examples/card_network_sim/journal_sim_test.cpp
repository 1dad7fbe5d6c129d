// Goal: prove over real HTTP that a simulator started with --journal
// remembers, after a kill -9, every charge, capture, void, refund and
// idempotency key it answered (a retry is replayed, never charged again),
// that its journal holds no card number or CVC, and that /admin/reset
// empties it.

#include "sim_fixture.hpp"

#include <csignal>
#include <cstdlib>
#include <sys/wait.h>

namespace {

using namespace psp::sim_test;

constexpr const char* pan = "4242424242424242";

http_result capture(int port, const std::string& key,
                    const std::string& charge_id, const std::string& body) {
  return post(port, "/v1/charges/" + charge_id + "/capture", body, key);
}

TEST(SimJournalTest, AKilledSimulatorRemembersWhatItAnswered) {
  psp::test::temp_dir dir;
  auto journal = dir.path() + "/sim.journal";
  std::string charged_raw;
  std::string charged_id;
  {
    sim_process sim{{"--journal", journal}};
    ASSERT_GT(sim.port, 0);
    auto charged = post(sim.port, "/v1/charges",
                        charge_body(pan, 2000, "pi_paid").dump(), "k-charge");
    ASSERT_EQ(charged.status, 200) << charged.raw;
    charged_raw = charged.raw;
    charged_id = charged.body["id"];
    auto held = post(sim.port, "/v1/charges",
                     auth_body(pan, 3000, "pi_held").dump(), "k-auth");
    ASSERT_EQ(held.status, 200) << held.raw;
    ASSERT_EQ(capture(sim.port, "k-cap", held.body["id"], R"({"amount":1200})")
                .status,
              200);
    auto voided = post(sim.port, "/v1/charges",
                       auth_body(pan, 500, "pi_void").dump(), "k-auth2");
    ASSERT_EQ(post(sim.port, "/v1/charges/" + voided.body["id"].get<std::string>()
                               + "/void",
                   "", "k-void")
                .status,
              200);
    json refund{{"charge", charged_id}, {"amount", 500}};
    ASSERT_EQ(post(sim.port, "/v1/refunds", refund.dump(), "k-refund").status,
              200);
    auto declined = post(sim.port, "/v1/charges",
                         charge_body("4000000000000002", 700, "pi_no").dump(),
                         "k-decline");
    ASSERT_EQ(declined.status, 402);
    sim.child.signal(SIGKILL);
  }
  auto text = read_file(journal);
  EXPECT_EQ(text.find(pan), std::string::npos);
  EXPECT_EQ(text.find("4000000000000002"), std::string::npos);
  EXPECT_EQ(text.find("\"123\""), std::string::npos); // the test CVC
  {
    // A write the kill cut short: never answered, so it must be forgotten.
    std::ofstream torn{journal, std::ios::app};
    torn << R"({"key":"k-torn","fp":)";
  }

  sim_process again{{"--journal", journal}};
  ASSERT_GT(again.port, 0);
  EXPECT_NE(read_file(again.log_path)
              .find("replayed 7 operations from " + journal
                    + " (dropped a torn last line)"),
            std::string::npos)
    << read_file(again.log_path);
  // The retry after the restart gets the stored answer, not a second charge.
  auto retried = post(again.port, "/v1/charges",
                      charge_body(pan, 2000, "pi_paid").dump(), "k-charge");
  EXPECT_EQ(retried.status, 200);
  EXPECT_TRUE(retried.replayed);
  EXPECT_EQ(retried.raw, charged_raw);
  EXPECT_EQ(get(again.port, "/admin/charge_counts").body,
            json({{"pi_held", 1}, {"pi_paid", 1}}));
  auto rows = get(again.port, "/admin/charges").body["charges"];
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1]["status"], "succeeded");
  EXPECT_EQ(rows[1]["amount_captured"], 1200);
  EXPECT_EQ(rows[2]["status"], "voided");
  EXPECT_EQ(rows[3]["status"], "declined");
  auto lines = get(again.port, "/admin/settlement").body;
  EXPECT_NE(lines.dump().find("refund"), std::string::npos) << lines.dump();
  // The refunded 500 still counts: 1,600 more would exceed the capture.
  json too_much{{"charge", charged_id}, {"amount", 1600}};
  EXPECT_EQ(post(again.port, "/v1/refunds", too_much.dump(), "k-refund2").status,
            400);
  // Same key, other parameters: still a conflict after the restart.
  EXPECT_EQ(post(again.port, "/v1/charges",
                 charge_body(pan, 2001, "pi_paid").dump(), "k-charge")
              .status,
            409);
  EXPECT_EQ(post(again.port, "/v1/charges",
                 charge_body("5555555555554444", 2000, "pi_paid").dump(),
                 "k-charge")
              .status,
            409)
    << "the card is remembered across the restart";

  // The torn line was cut off, so what comes after it is read back too.
  ASSERT_EQ(post(again.port, "/v1/charges",
                 charge_body(pan, 900, "pi_after").dump(), "k-after")
              .status,
            200);
  again.child.signal(SIGKILL);
  sim_process third{{"--journal", journal}};
  ASSERT_GT(third.port, 0);
  // 7, the refused refund (an answer stored for its key) and k-after.
  EXPECT_NE(read_file(third.log_path).find("replayed 9 operations"),
            std::string::npos)
    << read_file(third.log_path);

  ASSERT_EQ(post(third.port, "/admin/reset", "").status, 200);
  third.child.signal(SIGKILL);
  sim_process fresh{{"--journal", journal}};
  ASSERT_GT(fresh.port, 0);
  EXPECT_EQ(get(fresh.port, "/admin/charges").body["charges"].size(), 0u);
}

TEST(SimJournalTest, AnUnreadableJournalStopsTheStart) {
  psp::test::temp_dir dir;
  auto journal = dir.path() + "/sim.journal";
  {
    std::ofstream out{journal};
    out << R"({"key":"k","fp":{"endpoint":"charge","target":"pi_1",)"
        << R"("amount":1,"currency":"usd","capture":true},"status":200,)"
        << R"("body":"{}"})" << "\nnot json\n";
  }
  auto log = dir.path() + "/log";
  int status = std::system((std::string{SIM_BINARY} + " --port 0 --journal "
                            + journal + " > " + log + " 2>&1")
                             .c_str());
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(read_file(log).find("line 2"), std::string::npos) << read_file(log);
}

} // namespace
