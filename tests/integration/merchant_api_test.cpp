// Goal: the merchant API's list endpoint pages through a merchant's checkout
// sessions newest first, each exactly once, as Stripe's cursor pagination
// (limit, starting_after, has_more) promises.

#include "tests/support/psp_stack.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

namespace psp::test {
namespace {

/// Follows starting_after until has_more is false; returns the ids in the
/// order served. Stops after `pages_max` pages.
std::vector<std::string> page_through(psp_stack& stack, int limit,
                                      int pages_max = 50) {
  std::vector<std::string> ids;
  std::string cursor;
  for (int page = 0; page < pages_max; ++page) {
    auto path = "/v1/checkout/sessions?limit=" + std::to_string(limit);
    if (!cursor.empty()) {
      path += "&starting_after=" + cursor;
    }
    auto res = stack.api_get(path);
    EXPECT_EQ(res.status, 200) << path << " -> " << res.body;
    auto doc = res.body_json();
    if (res.status != 200 || !doc.is_object() || !doc["data"].is_array()) {
      break;
    }
    EXPECT_EQ(doc.value("object", ""), "list");
    EXPECT_LE(doc["data"].size(), static_cast<size_t>(limit));
    for (auto& s : doc["data"]) {
      ids.push_back(s.value("id", ""));
    }
    if (!doc.value("has_more", false) || doc["data"].empty()) {
      break;
    }
    cursor = ids.back();
  }
  return ids;
}

class merchant_api : public ::testing::Test {
protected:
  void SetUp() override {
    // Created back to back: most share their creation second, which is
    // what pagination has to cope with. The list's order is by creation
    // millisecond (ties by id), so each gets a millisecond of its own for
    // "newest first" to be one order.
    for (int i = 0; i < 5; ++i) {
      created_.push_back(
          stack_.create_session(1000 + i)["id"].get<std::string>());
      std::this_thread::sleep_for(std::chrono::milliseconds{2});
    }
  }

  /// Newest first.
  std::vector<std::string> expected() const {
    return {created_.rbegin(), created_.rend()};
  }

  psp_stack stack_;
  std::vector<std::string> created_;
};

TEST_F(merchant_api, one_page_lists_every_session_newest_first) {
  auto ids = page_through(stack_, 100);
  EXPECT_EQ(ids, expected());
}

// Sessions created within one second share their sorted-set score (seconds);
// the cursor must still neither skip nor repeat them, nor reorder them.
TEST_F(merchant_api, pages_of_one_list_every_session_once) {
  auto ids = page_through(stack_, 1);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size())
      << "a session was listed twice";
  EXPECT_EQ(ids.size(), created_.size()) << "sessions were skipped";
  EXPECT_EQ(ids, expected());
}

TEST_F(merchant_api, pages_of_two_list_every_session_once) {
  auto ids = page_through(stack_, 2);
  EXPECT_EQ(ids.size(), created_.size()) << "sessions were skipped";
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()),
            std::set<std::string>(created_.begin(), created_.end()));
}

TEST_F(merchant_api, has_more_is_exact) {
  auto doc = stack_.api_get("/v1/checkout/sessions?limit=5").body_json();
  EXPECT_EQ(doc["data"].size(), 5u);
  EXPECT_FALSE(doc.value("has_more", true)) << doc.dump();
  doc = stack_.api_get("/v1/checkout/sessions?limit=4").body_json();
  EXPECT_EQ(doc["data"].size(), 4u);
  EXPECT_TRUE(doc.value("has_more", false)) << doc.dump();
}

TEST_F(merchant_api, bad_list_params_are_400) {
  for (auto bad : {"0", "101", "abc", "-1"}) {
    SCOPED_TRACE(bad);
    auto res =
        stack_.api_get(std::string{"/v1/checkout/sessions?limit="} + bad);
    EXPECT_EQ(res.status, 400) << res.body;
    EXPECT_EQ(res.body_json()["error"].value("param", ""), "limit");
  }
  auto res = stack_.api_get("/v1/checkout/sessions?starting_after=cs_test_no");
  EXPECT_EQ(res.status, 400) << res.body;
  EXPECT_EQ(res.body_json()["error"].value("param", ""), "starting_after");
}

} // namespace
} // namespace psp::test

namespace psp::test {
namespace {

// curl -u sk_test_...: works like the Bearer header, as with Stripe.
TEST(merchant_api_auth, basic_auth_with_the_key_as_user_name) {
  psp_stack stack;
  http_request req;
  req.path = "/v1/checkout/sessions";
  auto user_colon = stack.secret_key() + ":";
  static const char* alphabet
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string b64;
  for (size_t i = 0; i < user_colon.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(user_colon[i]) << 16;
    n |= i + 1 < user_colon.size() ? static_cast<uint8_t>(user_colon[i + 1]) << 8 : 0;
    n |= i + 2 < user_colon.size() ? static_cast<uint8_t>(user_colon[i + 2]) : 0;
    b64 += alphabet[(n >> 18) & 63];
    b64 += alphabet[(n >> 12) & 63];
    b64 += i + 1 < user_colon.size() ? alphabet[(n >> 6) & 63] : '=';
    b64 += i + 2 < user_colon.size() ? alphabet[n & 63] : '=';
  }
  req.headers = {{"Authorization", "Basic " + b64}};
  EXPECT_EQ(http_call(stack.node_url(), req).status, 200);
}

// psp-admin roll-key: the new key works at once; the old one ends now, or
// after its overlap. Each old key is first used only where the check is
// meant to happen, since a node caches a key's merchant for 30 s.
TEST(merchant_api_auth, a_rolled_key_ends_now_or_after_its_overlap) {
  stack_options opts;
  opts.nodes = 2;
  psp_stack stack{opts};
  auto status_with = [&](const std::string& key, size_t node) {
    return http_get(stack.node_url(node), "/v1/checkout/sessions", key)
      .status;
  };
  auto roll = [&](const merchant_account& m,
                  std::vector<std::string> extra) {
    std::vector<std::string> argv{psp_admin_binary(), "--redis",
                                  stack.redis_address(), "roll-key",
                                  "--merchant", m.id};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto res = run_to_exit(argv);
    EXPECT_EQ(res.exit_code, 0) << res.out << res.err;
    return json::parse(res.out, nullptr, false);
  };

  auto revoked = stack.create_merchant("Rolled Now");
  auto now_doc = roll(revoked, {});
  auto fresh = now_doc.value("secret_key", "");
  EXPECT_TRUE(now_doc["old_key_expires_at"].is_null()) << now_doc.dump();
  EXPECT_EQ(status_with(revoked.secret_key, 0), 401);
  EXPECT_EQ(status_with(fresh, 0), 200);
  EXPECT_EQ(status_with(fresh, 1), 200);

  auto overlapped = stack.create_merchant("Rolled Later");
  auto later_doc = roll(overlapped, {"--expire-old-s", "2"});
  EXPECT_EQ(status_with(later_doc.value("secret_key", ""), 1), 200);
  EXPECT_EQ(status_with(overlapped.secret_key, 0), 200)
    << "the old key works while the overlap lasts";
  std::this_thread::sleep_for(std::chrono::milliseconds{3'100});
  EXPECT_EQ(status_with(overlapped.secret_key, 1), 401)
    << "and not after it (node-2 never cached it)";

  auto empty = run_to_exit({psp_admin_binary(), "--redis",
                            stack.redis_address(), "roll-key", "--merchant",
                            overlapped.id, "--expire-old-s="});
  EXPECT_EQ(empty.exit_code, 2)
    << "an empty overlap (an unset variable) is no revocation: " << empty.out
    << empty.err;
  auto bad = run_to_exit({psp_admin_binary(), "--redis", stack.redis_address(),
                          "roll-key", "--merchant", "acct_nobody"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("no merchant acct_nobody"), std::string::npos)
    << bad.err;
}

// A node that cached a key (used it a moment ago) stops accepting it
// within about a second of its revocation, not after its cache's 30 s:
// roll-key bumps a generation every node reads once a second.
TEST(merchant_api_auth, a_revoked_key_a_node_cached_ends_within_a_second) {
  psp_stack stack;
  auto m = stack.create_merchant("Cached Then Revoked");
  auto status_with = [&](const std::string& key) {
    return http_get(stack.node_url(), "/v1/checkout/sessions", key).status;
  };
  ASSERT_EQ(status_with(m.secret_key), 200); // now cached on the node
  auto rolled = run_to_exit({psp_admin_binary(), "--redis",
                             stack.redis_address(), "roll-key", "--merchant",
                             m.id});
  ASSERT_EQ(rolled.exit_code, 0) << rolled.err;
  EXPECT_TRUE(wait_until([&] { return status_with(m.secret_key) == 401; },
                         3s, 100ms))
    << "the revoked key still works on the node that cached it";
}

// psp-admin set-fees: payments created after it carry the new fees; one
// created before keeps the fees it was created with. Two nodes, since a
// node caches a merchant (and its fees) for 30 s once its key is used.
TEST(merchant_api_auth, set_fees_applies_to_payments_created_after_it) {
  stack_options opts;
  opts.nodes = 2;
  psp_stack stack{opts};
  auto m = stack.create_merchant("Fees Change");
  auto set_fees = [&](std::vector<std::string> flags) {
    std::vector<std::string> argv{psp_admin_binary(), "--redis",
                                  stack.redis_address(), "set-fees"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return run_to_exit(argv);
  };
  auto create_intent = [&](size_t node) {
    auto made = http_post_form(stack.node_url(node), "/v1/payment_intents",
                               {{"amount", "1000"}, {"currency", "usd"}},
                               m.secret_key);
    EXPECT_EQ(made.status, 200) << made.body;
    return made.body_json().value("id", "");
  };
  auto fee_of_payment = [&](const std::string& intent_id, size_t node) {
    auto url = stack.node_url(node);
    auto pi = http_post_form(url,
                             "/v1/payment_intents/" + intent_id + "/confirm",
                             {{"payment_method", "pm_card_visa"}},
                             m.secret_key);
    EXPECT_EQ(pi.status, 200) << pi.body;
    auto txns = http_get(url,
                         "/v1/balance_transactions?source="
                           + pi.body_json().value("latest_charge", ""),
                         m.secret_key);
    auto data = txns.body_json().value("data", json::array());
    EXPECT_EQ(data.size(), 1u) << pi.body << txns.body;
    return data.empty() ? int64_t{-1} : data[0].value("fee", int64_t{-1});
  };
  // The key is not used on any node yet: no node caches the old fees.
  auto changed = set_fees({"--merchant", m.id, "--fee-bps=250",
                           "--fee-fixed-minor", "030"});
  ASSERT_EQ(changed.exit_code, 0) << changed.out << changed.err;
  auto doc = json::parse(changed.out, nullptr, false);
  EXPECT_EQ(doc.value("fee_bps", -1), 250) << changed.out;
  EXPECT_EQ(doc.value("fee_fixed_minor", -1), 30) << changed.out;
  auto made_before = create_intent(0);
  // Only the percentage changes. Node 2 has not seen the merchant: it
  // creates with the new fees, and confirms the older intent with its own.
  ASSERT_EQ(set_fees({"--merchant", m.id, "--fee-bps", "0"}).exit_code, 0);
  auto made_after = create_intent(1);
  EXPECT_EQ(fee_of_payment(made_before, 1), 25 + 30);
  EXPECT_EQ(fee_of_payment(made_after, 1), 30);

  auto none = set_fees({"--merchant", m.id});
  EXPECT_EQ(none.exit_code, 2) << none.err;
  auto nobody = set_fees({"--merchant", "acct_nobody", "--fee-bps", "1"});
  EXPECT_EQ(nobody.exit_code, 2) << nobody.err;
  EXPECT_NE(nobody.err.find("no merchant acct_nobody"), std::string::npos);
  EXPECT_TRUE(stack.redis_hash("merchant:acct_nobody").empty());
  auto over = set_fees({"--merchant", m.id, "--fee-bps", "10001"});
  EXPECT_EQ(over.exit_code, 2) << over.err;

  // Each change an operator made is kept with who made it (the refused
  // ones made none); so is each merchant created.
  auto listed = http_get(stack.node_url(), "/admin/events?limit=100",
                         stack.admin_token())
                  .body_json();
  std::vector<json> fee_changes;
  size_t merchants_created = 0;
  for (auto& e : listed.value("data", json::array())) {
    if (e.value("type", "") == "admin.set_fees") {
      fee_changes.push_back(e);
    }
    merchants_created += e.value("type", "") == "admin.create_merchant";
  }
  ASSERT_EQ(fee_changes.size(), 2u) << listed.dump();
  EXPECT_EQ(fee_changes[0]["data"]["flags"].value("merchant", ""), m.id);
  EXPECT_EQ(fee_changes[0]["data"]["flags"].value("fee-bps", ""), "0")
    << "newest first";
  EXPECT_FALSE(fee_changes[0]["data"].value("by", "").empty());
  EXPECT_EQ(merchants_created, 2u) << "the stack's merchant and this one";
}

} // namespace
} // namespace psp::test
