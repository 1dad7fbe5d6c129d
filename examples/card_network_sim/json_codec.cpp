#include "json_codec.hpp"

namespace psp::sim {

using json = nlohmann::json;

std::string dump_json(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

api_response error_response(int status, const std::string& code,
                            const std::string& message) {
  json body{{"error", {{"code", code}, {"message", message}}}};
  return {status, dump_json(body), false, false};
}

json charge_body(const charge_record& charge,
                 const std::string& decline_message) {
  json body{{"id", charge.id},
            {"status", charge.succeeded() ? "succeeded" : "declined"},
            {"amount", charge.amount_minor},
            {"currency", charge.currency},
            {"reference", charge.reference},
            {"idempotency_key", charge.idempotency_key},
            {"brand", charge.brand},
            {"last4", charge.last4},
            {"created", charge.created_s}};
  if (!charge.succeeded()) {
    body["decline_code"] = charge.decline_code;
    body["message"] = decline_message;
  }
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
          {"idempotency_key", charge.idempotency_key},
          {"amount", charge.amount_minor},
          {"currency", charge.currency},
          {"status", charge.succeeded() ? "succeeded" : "declined"},
          {"decline_code",
           charge.succeeded() ? json(nullptr) : json(charge.decline_code)},
          {"created", charge.created_s}};
}

} // namespace psp::sim
