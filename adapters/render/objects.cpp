#include "adapters/render/objects.hpp"

#include "adapters/codec/card_check.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>

namespace psp::render {

namespace {

using json = nlohmann::json;

const std::string& get(const fields& f, const std::string& key) {
  static const std::string empty;
  auto i = f.find(key);
  return i == f.end() ? empty : i->second;
}

/// A string field, or JSON null when absent or empty.
json str_or_null(const fields& f, const std::string& key) {
  auto& v = get(f, key);
  return v.empty() ? json(nullptr) : json(v);
}

json int_or_null(const fields& f, const std::string& key) {
  auto& v = get(f, key);
  if (v.empty()) {
    return nullptr;
  }
  try {
    return std::stoll(v);
  } catch (const std::exception&) {
    return nullptr;
  }
}

int64_t int_or_zero(const fields& f, const std::string& key) {
  auto v = int_or_null(f, key);
  return v.is_null() ? 0 : v.get<int64_t>();
}

/// A field holding serialized JSON, or `fallback` when absent or invalid.
json json_field(const fields& f, const std::string& key, json fallback) {
  auto& v = get(f, key);
  if (v.empty()) {
    return fallback;
  }
  auto parsed = json::parse(v, nullptr, false);
  return parsed.is_discarded() ? fallback : parsed;
}

/// Stripe's billing_details from the stored `billing_details` field (only
/// the fields given, billing_details.hpp): every field present, null when
/// not given. Always an object at Stripe: integrations read
/// billing_details.email.
json billing_details(const fields& f) {
  json out{{"address",
            {{"city", nullptr}, {"country", nullptr}, {"line1", nullptr},
             {"line2", nullptr}, {"postal_code", nullptr}, {"state", nullptr}}},
           {"email", nullptr},
           {"name", nullptr},
           {"phone", nullptr}};
  auto given = json_field(f, "billing_details", json::object());
  if (!given.is_object()) {
    return out;
  }
  for (auto& [key, value] : given.items()) {
    if (key == "address" && value.is_object()) {
      for (auto& [part, text] : value.items()) {
        if (out["address"].contains(part)) {
          out["address"][part] = text;
        }
      }
    } else if (out.contains(key) && key != "address") {
      out[key] = value;
    }
  }
  return out;
}

} // namespace

json checkout_session(const fields& cs) {
  auto status = get(cs, "status");
  return json{
    {"id", get(cs, "id")},
    {"object", "checkout.session"},
    {"amount_subtotal", int_or_zero(cs, "amount_total")},
    {"amount_total", int_or_zero(cs, "amount_total")},
    {"cancel_url", str_or_null(cs, "cancel_url")},
    {"client_reference_id", str_or_null(cs, "client_reference_id")},
    {"created", int_or_zero(cs, "created")},
    {"currency", get(cs, "currency")},
    {"customer_email", str_or_null(cs, "customer_email")},
    {"expires_at", int_or_zero(cs, "expires_at")},
    {"livemode", false},
    {"metadata", json_field(cs, "metadata", json::object())},
    {"mode", "payment"},
    {"payment_intent", str_or_null(cs, "intent")},
    {"payment_method_types", json::array({"card"})},
    {"payment_status", get(cs, "payment_status")},
    {"status", status},
    {"success_url", str_or_null(cs, "success_url")},
    // Stripe returns the URL only while the session can still be paid.
    {"url", status == "open" ? str_or_null(cs, "url") : json(nullptr)},
  };
}

std::string stripe_decline_code(const std::string& network_code) {
  return network_code == "card_declined" ? "generic_decline" : network_code;
}

namespace {

/// The declined card of a last_payment_error, from the intent's
/// `last_error_payment_method` and `last_error_card` (the card_keys values
/// joined by '|'); null when the decline was recorded before the intent
/// kept its card.
json declined_payment_method(const fields& pi) {
  auto id = get(pi, "last_error_payment_method");
  auto card = get(pi, "last_error_card");
  if (id.empty() || card.empty()) {
    return nullptr;
  }
  // The declined card's details stay on the intent until the next confirm,
  // which also replaces this error.
  fields f{{"id", id}, {"billing_details", get(pi, "billing_details")}};
  size_t start = 0;
  for (auto* key : card_keys) {
    auto bar = std::min(card.find('|', start), card.size());
    f[key] = card.substr(start, bar - start);
    start = std::min(bar + 1, card.size());
  }
  if (f["exp_month"].empty() && id.rfind("pm_card_", 0) == 0) {
    // A test PaymentMethod keeps no expiry on its attempt; it shows the one
    // it had when used (as the 402's error.payment_method did).
    auto created = int_or_zero(f, "created");
    std::tm utc{};
    std::time_t at = static_cast<std::time_t>(created);
    gmtime_r(&at, &utc);
    auto expiry = codec::test_card_expiry(utc.tm_year + 1900);
    f["exp_month"] = std::to_string(expiry.month);
    f["exp_year"] = std::to_string(expiry.year);
  }
  return payment_method(f);
}

/// Stripe's hash when the create enabled them (the field holds
/// allow_redirects), null otherwise.
json automatic_payment_methods(const fields& pi) {
  auto redirects = get(pi, "automatic_payment_methods");
  if (redirects.empty()) {
    return nullptr;
  }
  return json{{"allow_redirects", redirects}, {"enabled", true}};
}

} // namespace

json payment_intent(const fields& pi) {
  json last_error = nullptr;
  if (!get(pi, "last_error_code").empty()) {
    last_error = json{
      {"type", "card_error"},
      {"code", get(pi, "last_error_code")},
      {"decline_code",
       get(pi, "last_error_decline_code").empty()
         ? json(nullptr)
         : json(stripe_decline_code(get(pi, "last_error_decline_code")))},
      {"message", get(pi, "last_error_message")},
      {"payment_method", declined_payment_method(pi)},
    };
  }
  json card = nullptr;
  if (!get(pi, "card_last4").empty()) {
    card = json{{"brand", get(pi, "card_brand")},
                {"last4", get(pi, "card_last4")}};
  }
  auto capture_method = get(pi, "capture_method");
  return json{
    {"id", get(pi, "id")},
    {"object", "payment_intent"},
    {"amount", int_or_zero(pi, "amount")},
    {"amount_capturable", int_or_zero(pi, "amount_capturable")},
    {"amount_received", int_or_zero(pi, "amount_received")},
    {"canceled_at", int_or_null(pi, "canceled_at")},
    {"cancellation_reason", str_or_null(pi, "cancellation_reason")},
    {"capture_method",
     capture_method.empty() ? std::string{"automatic"} : capture_method},
    {"confirmation_method", "automatic"},
    {"created", int_or_zero(pi, "created")},
    {"currency", get(pi, "currency")},
    {"description", str_or_null(pi, "description")},
    {"last_payment_error", last_error},
    {"latest_charge", str_or_null(pi, "latest_charge")},
    {"livemode", false},
    {"metadata", json_field(pi, "metadata", json::object())},
    {"payment_method", str_or_null(pi, "payment_method")},
    {"payment_method_types", json::array({"card"})},
    {"payment_method_details", card.is_null()
                                 ? json(nullptr)
                                 : json{{"type", "card"}, {"card", card}}},
    {"receipt_email", str_or_null(pi, "receipt_email")},
    {"status", get(pi, "status")},
    // Stripe's fields this PSP has no feature for, null as Stripe sends
    // them when unused (an integration's `=== null` checks hold).
    {"application", nullptr},
    {"application_fee_amount", nullptr},
    {"automatic_payment_methods", automatic_payment_methods(pi)},
    {"on_behalf_of", nullptr},
    {"processing", nullptr},
    {"review", nullptr},
    {"setup_future_usage", nullptr},
    {"shipping", nullptr},
    {"statement_descriptor", nullptr},
    {"statement_descriptor_suffix", nullptr},
    {"transfer_data", nullptr},
    {"transfer_group", nullptr},
  };
}

json charge(const fields& pi) {
  auto captured = int_or_zero(pi, "amount_received");
  auto refunded = int_or_zero(pi, "amount_refunded");
  auto status = get(pi, "status");
  json card = nullptr;
  if (!get(pi, "card_last4").empty()) {
    // What the network does not tell us (funding, country, checks) is
    // unknown or null, never guessed.
    card = json{{"brand", get(pi, "card_brand")},
                {"checks", {{"address_line1_check", nullptr},
                            {"address_postal_code_check", nullptr},
                            {"cvc_check", nullptr}}},
                {"country", nullptr},
                {"funding", "unknown"},
                {"last4", get(pi, "card_last4")},
                {"network", get(pi, "card_brand")},
                {"three_d_secure", nullptr},
                {"wallet", nullptr}};
  }
  return json{
    {"id", get(pi, "latest_charge")},
    {"object", "charge"},
    {"balance_transaction", captured > 0
                              ? str_or_null(pi, "balance_transaction")
                              : json(nullptr)},
    // The paying card's, which the confirm that sent it left on the intent.
    {"billing_details", billing_details(pi)},
    {"description", str_or_null(pi, "description")},
    {"disputed", false},
    {"failure_code", nullptr},
    {"failure_message", nullptr},
    {"fraud_details", json::object()},
    {"outcome", {{"network_status", "approved_by_network"},
                 {"reason", nullptr},
                 {"risk_level", "not_assessed"},
                 {"seller_message", "Payment complete."},
                 {"type", "authorized"}}},
    {"receipt_url", nullptr},
    {"application", nullptr},
    {"application_fee", nullptr},
    {"application_fee_amount", nullptr},
    {"calculated_statement_descriptor", nullptr},
    {"customer", nullptr},
    {"on_behalf_of", nullptr},
    {"review", nullptr},
    {"shipping", nullptr},
    {"source_transfer", nullptr},
    {"statement_descriptor", nullptr},
    {"statement_descriptor_suffix", nullptr},
    {"transfer_data", nullptr},
    {"transfer_group", nullptr},
    {"amount", int_or_zero(pi, "amount")},
    {"amount_captured", captured},
    {"amount_refunded", refunded},
    {"captured", status == "succeeded"},
    {"created", int_or_zero(pi, "created")},
    {"currency", get(pi, "currency")},
    {"livemode", false},
    {"metadata", json_field(pi, "metadata", json::object())},
    // A charge exists once the network approved the card; releasing the
    // hold later (cancel) does not make it unpaid, in any Stripe version.
    {"paid", !get(pi, "latest_charge").empty()},
    {"payment_intent", get(pi, "id")},
    {"payment_method", str_or_null(pi, "payment_method")},
    {"payment_method_details", card.is_null()
                                 ? json(nullptr)
                                 : json{{"type", "card"}, {"card", card}}},
    {"receipt_email", str_or_null(pi, "receipt_email")},
    {"refunded", captured > 0 && refunded >= captured},
    {"status", "succeeded"},
  };
}

json payment_method(const fields& card) {
  return json{
    {"id", get(card, "id")},
    {"object", "payment_method"},
    {"billing_details", billing_details(card)},
    {"card",
     {{"brand", get(card, "brand")},
      {"country", nullptr},
      {"exp_month", int_or_null(card, "exp_month")},
      {"exp_year", int_or_null(card, "exp_year")},
      // The network does not tell us credit from debit.
      {"funding", "unknown"},
      {"last4", get(card, "last4")}}},
    {"created", int_or_zero(card, "created")},
    {"customer", nullptr},
    {"livemode", false},
    {"metadata", json::object()},
    {"type", "card"},
  };
}

json refund(const fields& re) {
  auto status = get(re, "status");
  auto id = get(re, "id");
  json out{
    {"id", id},
    {"object", "refund"},
    {"amount", int_or_zero(re, "amount")},
    {"balance_transaction",
     status == "succeeded" ? json("txn_" + id.substr(id.rfind('_') + 1))
                           : json(nullptr)},
    {"charge", str_or_null(re, "charge")},
    {"created", int_or_zero(re, "created")},
    {"currency", get(re, "currency")},
    {"metadata", json_field(re, "metadata", json::object())},
    {"payment_intent", str_or_null(re, "payment_intent")},
    {"reason", str_or_null(re, "reason")},
    {"status", status},
    {"receipt_number", nullptr},
    {"source_transfer_reversal", nullptr},
    {"transfer_reversal", nullptr},
  };
  if (status == "failed") {
    out["failure_reason"] = str_or_null(re, "failure_reason");
  }
  return out;
}

json balance_transaction(const fields& txn) {
  auto fee = int_or_zero(txn, "fee");
  auto currency = get(txn, "currency");
  auto fee_details = json::array();
  if (fee != 0) {
    fee_details.push_back({{"amount", fee},
                           {"application", nullptr},
                           {"currency", currency},
                           {"description", "PSP processing fees"},
                           {"type", "stripe_fee"}});
  }
  return json{
    {"id", get(txn, "id")},
    {"object", "balance_transaction"},
    {"amount", int_or_zero(txn, "amount")},
    // No payouts: funds are never moved to an available balance here.
    {"available_on", int_or_zero(txn, "created")},
    {"created", int_or_zero(txn, "created")},
    {"currency", currency},
    {"description", nullptr},
    {"exchange_rate", nullptr}, // never converted: one currency throughout
    {"fee", fee},
    {"fee_details", fee_details},
    {"net", int_or_zero(txn, "net")},
    {"reporting_category", get(txn, "type")},
    {"source", get(txn, "source")},
    {"status", "pending"},
    {"type", get(txn, "type")},
  };
}

json webhook_endpoint(const fields& we, bool with_secret) {
  auto events = json::array();
  std::string list = get(we, "enabled_events");
  size_t start = 0;
  while (start <= list.size() && !list.empty()) {
    auto comma = list.find(',', start);
    events.push_back(list.substr(start, comma - start));
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  json out{
    {"id", get(we, "id")},
    {"object", "webhook_endpoint"},
    {"api_version", api_version},
    {"created", int_or_zero(we, "created")},
    {"description", str_or_null(we, "description")},
    {"enabled_events", events},
    {"livemode", false},
    {"metadata", json_field(we, "metadata", json::object())},
    {"status", get(we, "status")},
    {"url", get(we, "url")},
  };
  if (with_secret) {
    out["secret"] = get(we, "secret");
  }
  return out;
}

json event(const std::string& id, const std::string& type, int64_t created_s,
           const std::string& object_kind, const std::string& snapshot_json) {
  fields snap;
  auto arr = json::parse(snapshot_json, nullptr, false);
  if (arr.is_array()) {
    for (size_t i = 0; i + 1 < arr.size(); i += 2) {
      if (arr[i].is_string() && arr[i + 1].is_string()) {
        snap[arr[i].get<std::string>()] = arr[i + 1].get<std::string>();
      }
    }
  }
  json object;
  if (object_kind == "checkout.session") {
    object = checkout_session(snap);
  } else if (object_kind == "refund") {
    object = refund(snap);
  } else if (object_kind == "charge") {
    object = charge(snap);
  } else {
    object = payment_intent(snap);
  }
  return json{
    {"id", id},
    {"object", "event"},
    {"api_version", api_version},
    {"created", created_s},
    {"data", {{"object", object}}},
    {"livemode", false},
    {"pending_webhooks", 0},
    {"request", {{"id", nullptr}, {"idempotency_key", nullptr}}},
    {"type", type},
  };
}

std::string event_body(const std::string& id, const std::string& type,
                       int64_t created_s, const std::string& object_kind,
                       const std::string& snapshot_json) {
  // Invalid UTF-8 (only a damaged record could hold it) is replaced, not
  // thrown: the delivery is sent and recorded instead of failing its claim
  // again at every lease.
  return event(id, type, created_s, object_kind, snapshot_json)
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace psp::render
