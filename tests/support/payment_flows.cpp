#include "tests/support/payment_flows.hpp"

#include <chrono>
#include <thread>

namespace psp::test {

namespace {

json wait_status(psp_stack& stack, const std::string& path,
                 const std::string& busy) {
  json last;
  wait_until(
    [&] {
      last = stack.api_get(path).body_json();
      return last.is_object() && last.value("status", "") != busy;
    },
    20s, 50ms);
  return last;
}

} // namespace

int64_t now_s() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch())
    .count();
}

int64_t ended_period_end_s() {
  auto end_s = now_s() + 1;
  while (now_s() < end_s) {
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  // The nodes tell time by Redis's clock, followed to within a millisecond
  // or so (decision 63): just past the second here can be just before it
  // there ("to is 1 s in the future", seen once in CI).
  std::this_thread::sleep_for(std::chrono::milliseconds{50});
  return end_s;
}

json wait_intent(psp_stack& stack, const std::string& id) {
  return wait_status(stack, "/v1/payment_intents/" + id, "processing");
}

json create_intent(psp_stack& stack, int64_t amount_minor,
                   const std::string& currency, bool manual,
                   const std::string& payment_method) {
  form_fields f{{"amount", std::to_string(amount_minor)},
                {"currency", currency},
                {"payment_method", payment_method},
                {"confirm", "true"}};
  if (manual) {
    f.push_back({"capture_method", "manual"});
  }
  auto res = stack.api_post("/v1/payment_intents", f);
  auto doc = res.body_json();
  if (res.status == 402 && doc.contains("error")) {
    return doc; // a decline: the error carries the intent
  }
  if (!doc.is_object() || !doc.contains("id")) {
    ADD_FAILURE() << "create intent: HTTP " << res.status << " " << res.body;
    return doc;
  }
  return wait_intent(stack, doc["id"].get<std::string>());
}

json capture_intent(psp_stack& stack, const std::string& id,
                    int64_t amount_minor) {
  form_fields f;
  if (amount_minor > 0) {
    f.push_back({"amount_to_capture", std::to_string(amount_minor)});
  }
  auto res = stack.api_post("/v1/payment_intents/" + id + "/capture", f);
  EXPECT_EQ(res.status, 200) << res.body;
  return wait_intent(stack, id);
}

json cancel_intent(psp_stack& stack, const std::string& id) {
  auto res = stack.api_post("/v1/payment_intents/" + id + "/cancel", {});
  EXPECT_EQ(res.status, 200) << res.body;
  return wait_intent(stack, id);
}

json refund_intent(psp_stack& stack, const std::string& intent_id,
                   int64_t amount_minor) {
  auto res = stack.api_post("/v1/refunds",
                            {{"payment_intent", intent_id},
                             {"amount", std::to_string(amount_minor)}});
  auto doc = res.body_json();
  if (res.status != 200 || !doc.contains("id")) {
    ADD_FAILURE() << "refund: HTTP " << res.status << " " << res.body;
    return doc;
  }
  return wait_status(stack, "/v1/refunds/" + doc["id"].get<std::string>(),
                     "pending");
}

std::map<std::string, std::map<std::string, std::string>>
balance_transactions(psp_stack& stack) {
  std::map<std::string, std::map<std::string, std::string>> out;
  auto ids = stack.redis_cmd({"ZRANGE",
                              "merchant:" + stack.merchant().id
                                + ":balance_transactions",
                              "0", "-1"});
  if (ids) {
    for (auto& id : ids->elements) {
      out[id.str] = stack.redis_hash("txn:" + id.str);
    }
  }
  return out;
}

std::string txn_with_source(psp_stack& stack, const std::string& source) {
  for (auto& [id, fields] : balance_transactions(stack)) {
    auto it = fields.find("source");
    if (it != fields.end() && it->second == source) {
      return id;
    }
  }
  return {};
}

http_reply admin_reconcile(psp_stack& stack, int64_t from_s, int64_t to_s,
                           size_t node) {
  http_request req;
  req.method = "POST";
  req.path = "/admin/reconciliations";
  req.body = form_encode({{"from", std::to_string(from_s)},
                          {"to", std::to_string(to_s)}});
  req.content_type = "application/x-www-form-urlencoded";
  req.bearer = stack.admin_token();
  req.timeout = 30s;
  return http_call(stack.node_url(node), req);
}

} // namespace psp::test
