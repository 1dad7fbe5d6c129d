// One shopper's checkout, step by step, as a browser would do it: buy at the
// store, open the hosted page, submit the card form, watch the status page,
// and on a decline try the next card on the same session.
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace demo {

/// Cards one checkout tries, in order, by position in a rotation of four:
/// a success, another brand's success, and two declines that are each
/// followed by a good card.
std::vector<std::string> card_plan(int index);

/// The product bought by checkout `index` (rotates through the catalog).
std::string product_for(int index);

/// The last four digits: the only part of a card number the demo prints.
std::string last4(const std::string& number);

struct attempt_result {
  std::string last4;
  std::string outcome;    ///< paid | declined | expired | timeout | error
  std::string detail;     ///< decline message or error text
  int64_t elapsed_ms = 0; ///< card submitted → outcome seen
};

struct checkout_result {
  int index = 0;
  std::string product;
  std::string order_id; ///< `ord_<n>` at the store
  std::string session_id;
  std::vector<attempt_result> attempts;
  bool paid = false;
  std::string error;            ///< why it stopped before any attempt
  int64_t paid_latency_ms = -1; ///< last submit → status.json says paid
  // Filled from the store's /orders.json once webhooks have been awaited.
  std::string store_status;
  std::vector<std::string> webhook_types;
};

/// What status.json says about an attempt; nullopt while still processing.
std::optional<attempt_result> classify_status(const nlohmann::json& status);

class checkout_runner {
public:
  checkout_runner(httplib::Client& store, httplib::Client& psp, int timeout_s);

  /// Drives checkout `index` to paid, a final decline, or an error.
  checkout_result run(int index);

  /// POST /buy; the hosted page URL, or "" and `err` set.
  std::string buy(const std::string& product, std::string& err);

  /// The session's status per status.json: open, complete, expired, or ""
  /// when it cannot be read.
  std::string session_state(const std::string& session_id);

private:
  attempt_result pay_once(const std::string& session_id,
                          const std::string& number, int index);
  attempt_result await_outcome(const std::string& session_id,
                               const std::string& card_last4);

  httplib::Client& store_;
  httplib::Client& psp_;
  int timeout_s_;
};

} // namespace demo
