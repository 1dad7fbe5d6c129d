#include "adapters/card_network/network_answer.hpp"

#include <nlohmann/json.hpp>

namespace psp::card {

namespace {

using json = nlohmann::json;

/// `obj[key]` when it is a string, else `fallback`. json::value() throws
/// on a present key of another type, and the body is another process's.
std::string text_of(const json& obj, const char* key, const char* fallback) {
  auto found = obj.find(key);
  if (found == obj.end() || !found->is_string()) {
    return fallback;
  }
  return found->get<std::string>();
}

} // namespace

charge_result transient_answer(std::string why) {
  charge_result out;
  out.outcome = charge_outcome::transient;
  out.message = std::move(why);
  return out;
}

charge_result interpret_network_answer(int32_t status, std::string_view body,
                                       std::string_view transport_error,
                                       payment_op op) {
  if (status == 0) {
    return transient_answer("card network: " + std::string{transport_error});
  }
  auto doc = json::parse(body.begin(), body.end(), nullptr, false);
  bool object = doc.is_object();
  if (!object) {
    doc = json::object(); // a status without a usable body
  }
  bool follow_up = op == payment_op::capture || op == payment_op::void_auth
                   || op == payment_op::refund;
  auto error = doc.find("error");
  if (follow_up && (status == 400 || status == 404) && error != doc.end()
      && error->is_object()) {
    // A capture, void or refund the network refuses for good (already
    // captured, voided, over the refundable amount): a final answer.
    charge_result out;
    out.outcome = charge_outcome::declined;
    out.decline_code = text_of(*error, "code", "network_refused");
    out.message = text_of(*error, "message", "The card network refused.");
    return out;
  }
  if (status == 200 && object) {
    charge_result out;
    out.outcome = charge_outcome::approved;
    out.charge_id = text_of(doc, "id", "");
    return out;
  }
  if (status == 402 && object) {
    charge_result out;
    out.outcome = charge_outcome::declined;
    out.charge_id = text_of(doc, "id", "");
    out.decline_code = text_of(doc, "decline_code", "card_declined");
    out.message = text_of(doc, "message", "Your card was declined.");
    return out;
  }
  if (status == 409 && error != doc.end() && error->is_object()
      && text_of(*error, "code", "") == "idempotency_key_reused") {
    // Not a busy key (`idempotency_key_in_use`, which clears): the key is
    // taken by a request with other parameters, and stays taken. This
    // request was not carried out, so a card attempt's outcome is known:
    // refused (decision 70).
    charge_result out;
    out.key_conflict = true;
    if (follow_up) {
      out.outcome = charge_outcome::transient;
      out.message = "the network holds a request with other parameters "
                    "under this idempotency key";
    } else {
      out.outcome = charge_outcome::declined;
      out.decline_code = "duplicate_transaction";
      // The network holds an earlier attempt under the key, paid or
      // declined: nothing here says which.
      out.message = "The card network already holds an earlier payment "
                    "attempt for this checkout.";
    }
    return out;
  }
  // 5xx, 409 and anything unexpected: the outcome is unknown, never guessed.
  return transient_answer("card network answered HTTP "
                          + std::to_string(status));
}

} // namespace psp::card
