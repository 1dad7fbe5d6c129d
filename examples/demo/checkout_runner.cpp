#include "checkout_runner.hpp"

#include "demo_http.hpp"
#include "store_orders.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace demo {

namespace {

using clock_type = std::chrono::steady_clock;

// status.json is cheap. The first polls come 1 ms apart so that the
// measured latency is the payment's, not the poll's (a fixed 20 ms read
// every payment as 21 ms); the interval doubles up to 20 ms for slow ones.
constexpr auto poll_interval_first = std::chrono::milliseconds(1);
constexpr auto poll_interval_max = std::chrono::milliseconds(20);

int64_t ms_since(clock_type::time_point start) {
  using namespace std::chrono;
  return duration_cast<milliseconds>(clock_type::now() - start).count();
}

attempt_result failed(const std::string& card_last4, std::string outcome,
                      std::string detail) {
  attempt_result r;
  r.last4 = card_last4;
  r.outcome = std::move(outcome);
  r.detail = std::move(detail);
  return r;
}

} // namespace

std::vector<std::string> card_plan(int index) {
  switch (index % 4) {
  case 0:
    return {"4242424242424242"};
  case 1:
    return {"5555555555554444"};
  case 2:
    return {"4000000000000002", "4242424242424242"};
  default:
    return {"4000000000009995", "5555555555554444"};
  }
}

std::string product_for(int index) {
  static const char* const products[] = {"tshirt", "mug", "stickers"};
  return products[index % 3];
}

std::string last4(const std::string& number) {
  return number.size() <= 4 ? number : number.substr(number.size() - 4);
}

std::optional<attempt_result> classify_status(const nlohmann::json& status) {
  auto text = [&](const char* key) { return string_at(status, key); };
  attempt_result r;
  if (text("status") == "complete" && text("payment_status") == "paid") {
    r.outcome = "paid";
  } else if (text("status") == "expired") {
    r.outcome = "expired";
  } else if (text("intent_status") == "requires_payment_method" &&
             !text("error_message").empty()) {
    r.outcome = "declined";
    r.detail = text("error_message");
  } else {
    return std::nullopt;
  }
  return r;
}

checkout_runner::checkout_runner(httplib::Client& store, httplib::Client& psp,
                                 int timeout_s)
    : store_(store), psp_(psp), timeout_s_(timeout_s) {
  // nothing else: the clients are owned by the caller
}

std::string checkout_runner::buy(const std::string& product,
                                 std::string& err) {
  auto res = store_.Post("/buy", httplib::Params{{"product", product},
                                                 {"quantity", "1"}});
  if (!res || res->status != 303) {
    err = "POST /buy at the store: " + describe(res);
    return "";
  }
  auto location = res->get_header_value("Location");
  if (session_id_of(location).empty()) {
    err = "the store redirected to '" + location + "', not a hosted page";
    return "";
  }
  return location;
}

checkout_result checkout_runner::run(int index) {
  checkout_result out;
  out.index = index;
  out.product = product_for(index);
  auto url = buy(out.product, out.error);
  if (url.empty()) {
    return out;
  }
  out.session_id = session_id_of(url);
  out.order_id = order_id_for_session(store_, out.session_id);
  if (auto state = session_state(out.session_id); state != "open") {
    // Would mean the PSP replayed an earlier session for a reused
    // Idempotency-Key; the store's keys carry a per-run prefix (and its
    // journal) so that they are never reused.
    out.error = "the store's new order got a checkout session that is '" +
                (state.empty() ? "unreadable" : state) +
                "' before any card was entered (an Idempotency-Key replay "
                "of an earlier session?)";
  }
  if (!out.error.empty()) {
    return out;
  }
  for (const auto& number : card_plan(index)) {
    auto attempt = pay_once(out.session_id, number, index);
    out.attempts.push_back(attempt);
    if (attempt.outcome == "paid") {
      out.paid = true;
      out.paid_latency_ms = attempt.elapsed_ms;
    }
    if (attempt.outcome != "declined") {
      break;
    }
  }
  return out;
}

std::string checkout_runner::session_state(const std::string& session_id) {
  auto status = get_json(psp_, "/pay/" + session_id + "/status.json");
  return status ? string_at(*status, "status") : "";
}

attempt_result checkout_runner::pay_once(const std::string& session_id,
                                         const std::string& number,
                                         int index) {
  auto card_last4 = last4(number);
  auto page_path = "/pay/" + session_id;
  auto page = psp_.Get(page_path);
  if (!page || page->status != 200) {
    return failed(card_last4, "error", "GET hosted page: " + describe(page));
  }
  auto nonce = extract_nonce(page->body);
  if (nonce.empty()) {
    return failed(card_last4, "error", "no nonce on the hosted page");
  }
  httplib::Params form{{"nonce", nonce},
                       {"name", "Demo Shopper " + std::to_string(index + 1)},
                       {"number", number},
                       {"exp", "12/30"},
                       {"cvc", "123"}};
  auto submitted_at = clock_type::now();
  auto posted = psp_.Post(page_path, form);
  if (!posted || posted->status != 303) {
    return failed(card_last4, "error", "POST card form: " + describe(posted));
  }
  auto result = await_outcome(session_id, card_last4);
  result.elapsed_ms = ms_since(submitted_at);
  return result;
}

attempt_result checkout_runner::await_outcome(const std::string& session_id,
                                              const std::string& card_last4) {
  auto deadline = clock_type::now() + std::chrono::seconds(timeout_s_);
  auto path = "/pay/" + session_id + "/status.json";
  auto interval = poll_interval_first;
  while (clock_type::now() < deadline) {
    if (auto status = get_json(psp_, path)) {
      if (auto r = classify_status(*status)) {
        r->last4 = card_last4;
        return *r;
      }
    }
    std::this_thread::sleep_for(interval);
    interval = std::min(interval * 2, poll_interval_max);
  }
  return failed(card_last4, "timeout",
                "no outcome within " + std::to_string(timeout_s_) + " s");
}

} // namespace demo
