#include "store_orders.hpp"

#include "demo_http.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace demo {

namespace {

constexpr auto poll_interval = std::chrono::milliseconds(100);

const nlohmann::json* find_order(const nlohmann::json& doc,
                                 const std::string& key,
                                 const std::string& value) {
  if (value.empty() || !doc.is_object()) {
    return nullptr;
  }
  auto orders = doc.find("orders");
  if (orders == doc.end() || !orders->is_array()) {
    return nullptr;
  }
  for (const auto& o : *orders) {
    if (string_at(o, key.c_str()) == value) {
      return &o;
    }
  }
  return nullptr;
}

// Copies the store's view of one order into the checkout result.
void absorb(const nlohmann::json& order, checkout_result& r) {
  r.store_status = string_at(order, "status");
  r.webhook_types.clear();
  auto events = order.find("events");
  if (events == order.end() || !events->is_array()) {
    return;
  }
  for (const auto& ev : *events) {
    r.webhook_types.push_back(string_at(ev, "type"));
  }
}

// Refreshes every checkout from one /orders.json. True when nothing is left
// to wait for: a checkout that never got paid will not settle by waiting.
bool refresh(const nlohmann::json& doc, std::vector<checkout_result>& all) {
  bool done = true;
  for (auto& r : all) {
    const auto* order = r.order_id.empty()
                            ? find_order(doc, "session_id", r.session_id)
                            : find_order(doc, "id", r.order_id);
    if (order != nullptr) {
      r.order_id = string_at(*order, "id");
      absorb(*order, r);
    }
    done = done && (!r.paid || settled(r));
  }
  return done;
}

} // namespace

std::string order_id_for_session(httplib::Client& store,
                                 const std::string& session_id) {
  auto doc = get_json(store, "/orders.json");
  if (!doc) {
    return "";
  }
  const auto* order = find_order(*doc, "session_id", session_id);
  return order == nullptr ? "" : string_at(*order, "id");
}

std::vector<std::string> expected_webhooks(const checkout_result& r) {
  std::vector<std::string> out;
  for (const auto& a : r.attempts) {
    if (a.outcome == "declined") {
      out.push_back("payment_intent.payment_failed");
    }
  }
  if (r.paid) {
    out.push_back("payment_intent.succeeded");
    out.push_back("checkout.session.completed");
  }
  return out;
}

std::vector<std::string> missing_webhooks(const checkout_result& r) {
  auto have = r.webhook_types;
  std::vector<std::string> missing;
  for (const auto& type : expected_webhooks(r)) {
    auto it = std::find(have.begin(), have.end(), type);
    if (it == have.end()) {
      missing.push_back(type);
    } else {
      have.erase(it);
    }
  }
  return missing;
}

bool settled(const checkout_result& r) {
  return r.paid && r.store_status == "paid" && missing_webhooks(r).empty();
}

bool await_webhooks(httplib::Client& store, std::vector<checkout_result>& all,
                    int timeout_s) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    if (auto doc = get_json(store, "/orders.json")) {
      done = refresh(*doc, all);
    }
    if (!done) {
      std::this_thread::sleep_for(poll_interval);
    }
  }
  return done;
}

} // namespace demo
