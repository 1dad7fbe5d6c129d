#include "json_codec.hpp"

#include "charge_lifecycle.hpp"

namespace psp::sim {

using json = nlohmann::json;

namespace {

json text_or_null(const std::string& text) {
  return text.empty() ? json(nullptr) : json(text);
}

std::string status_text(const charge_record& charge) {
  return std::string{status_name(charge.status)};
}

// Kept byte-compatible with the answer declines have always had, so callers
// parsing 402s see no change.
json decline_body(const charge_record& charge,
                  const std::string& decline_message) {
  return {{"id", charge.id},
          {"status", "declined"},
          {"amount", charge.amount_minor},
          {"currency", charge.currency},
          {"reference", charge.reference},
          {"idempotency_key", charge.idempotency_key},
          {"brand", charge.brand},
          {"last4", charge.last4},
          {"created", charge.created_s},
          {"decline_code", charge.decline_code},
          {"message", decline_message}};
}

} // namespace

std::string dump_json(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

api_response error_response(int status, const std::string& code,
                            const std::string& message) {
  json body{{"error", {{"code", code}, {"message", message}}}};
  return {status, dump_json(body), false, false};
}

json charge_object(const charge_record& charge) {
  return {{"id", charge.id},
          {"status", status_text(charge)},
          {"captured", charge.captured()},
          {"amount", charge.amount_minor},
          {"amount_captured", charge.amount_captured_minor},
          {"currency", charge.currency},
          {"reference", charge.reference},
          {"merchant", text_or_null(charge.merchant)},
          {"brand", charge.brand},
          {"last4", charge.last4},
          {"created", charge.created_s}};
}

json charge_body(const charge_record& charge,
                 const std::string& decline_message) {
  if (!charge.approved()) {
    return decline_body(charge, decline_message);
  }
  auto body = charge_object(charge);
  body["idempotency_key"] = charge.idempotency_key;
  return body;
}

json refund_body(const refund_record& refund) {
  return {{"id", refund.id},
          {"status", "succeeded"},
          {"charge", refund.charge_id},
          {"amount", refund.amount_minor},
          {"currency", refund.currency},
          {"reference", refund.reference},
          {"idempotency_key", refund.idempotency_key},
          {"created", refund.created_s}};
}

json charge_row(const charge_record& charge) {
  return {{"id", charge.id},
          {"reference", charge.reference},
          {"merchant", text_or_null(charge.merchant)},
          {"idempotency_key", charge.idempotency_key},
          {"amount", charge.amount_minor},
          {"amount_captured", charge.amount_captured_minor},
          {"amount_refunded", charge.refunded_minor},
          {"captured", charge.captured()},
          {"currency", charge.currency},
          {"status", status_text(charge)},
          {"decline_code", text_or_null(charge.decline_code)},
          {"created", charge.created_s},
          {"captured_at",
           charge.captured() ? json(charge.captured_s) : json(nullptr)}};
}

} // namespace psp::sim
