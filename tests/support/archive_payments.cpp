#include "tests/support/archive_payments.hpp"

#include "adapters/archive/archive_locator.hpp"

namespace psp::test {

using archive::stored_object;

/// `length` characters of the ids' alphabet, the same for the same seed
/// (xorshift: no randomness between runs).
std::string token(uint64_t seed, size_t length) {
  const std::string alphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  uint64_t x = 88172645463325252ULL ^ (seed * 0x9E3779B97F4A7C15ULL);
  std::string out;
  for (size_t i = 0; i < length; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out += alphabet[x % alphabet.size()];
  }
  return out;
}

std::string payment_ids::archive_key() const {
  return "arc:" + suffix.substr(0, archive::archive_id_chars);
}

payment_ids ids_for(uint64_t n, const std::string& merchant) {
  payment_ids p;
  p.merchant = merchant;
  p.intent = "pi_" + token(n * 7 + 1, 24);
  p.session = "cs_test_" + token(n * 7 + 2, 24);
  p.suffix = token(n * 7 + 3, 24);
  p.charge = "ch_" + token(n * 7 + 4, 24);
  return p;
}

std::vector<stored_object> paid_payment(const payment_ids& p,
                                        const std::string& amount) {
  std::vector<stored_object> out;
  std::vector<std::pair<std::string, std::string>> pi{
    {"id", p.intent}, {"merchant", p.merchant}};
  if (!p.session.empty()) {
    pi.emplace_back("session", p.session);
  }
  for (auto& f : std::vector<std::pair<std::string, std::string>>{
         {"amount", amount}, {"currency", "usd"}, {"status", "succeeded"},
         {"created", "1796038561"}, {"capture_method", "automatic"},
         {"fee_bps", "290"}, {"fee_fixed_minor", "30"},
         {"attempt", p.attempt()}, {"confirm_nonce", "bd7406eda8b99-n-871"},
         {"card_brand", "visa"}, {"card_last4", "4242"},
         {"payment_method", "pm_" + p.suffix}, {"updated", "1796038563"},
         {"latest_charge", p.charge}, {"amount_received", amount},
         {"fee", "103"}, {"processed_by", "node-1"},
         {"metadata", std::string{"{\"k\":\"a\0b \xc3\xa9\"}", 14}}}) {
    pi.push_back(f);
  }
  out.push_back({"pi:" + p.intent, pi});
  out.push_back({"pa:" + p.attempt(),
                 {{"intent", p.intent}, {"status", "succeeded"},
                  {"kind", "charge"}, {"brand", "visa"}, {"last4", "4242"},
                  {"created", "1796038564"}, {"exp_month", "12"},
                  {"exp_year", "2030"}, {"finished", "1796038564"},
                  {"charge", p.charge}}});
  if (!p.session.empty()) {
    out.push_back(
      {"cs:" + p.session,
       {{"id", p.session}, {"merchant", p.merchant},
        {"merchant_name", "Example Shop"}, {"intent", p.intent},
        {"status", "complete"}, {"payment_status", "paid"},
        {"amount_total", amount}, {"currency", "usd"},
        {"line_items",
         R"([{"amount_total":)" + amount
           + R"(,"name":"Cotton T-shirt","quantity":1}])"},
        {"success_url", "https://shop.example/success"},
        {"cancel_url", "https://shop.example/cart"},
        {"customer_email", "shopper@example.com"},
        {"expires_at", "1796124961"}, {"created", "1796038561"},
        {"url", "https://pay.example/pay/" + p.session},
        {"completed", "1796038563"}}});
  }
  const std::string delivered = "delivered|1|1796038564|";
  out.push_back({"evt:evt_" + p.suffix + "S",
                 {{"type", "payment_intent.succeeded"},
                  {"created", "1796038564"}, {"merchant", p.merchant},
                  {"object", "payment_intent"},
                  {"snapshot", R"(["id",")" + p.intent + R"(","amount",")"
                                 + amount + R"(","status","succeeded"])"},
                  {"wh:" + p.endpoint, delivered}}});
  out.push_back({"evt:evt_" + p.suffix + "C",
                 {{"type", "checkout.session.completed"},
                  {"created", "1796038564"}, {"merchant", p.merchant},
                  {"object", "checkout.session"},
                  {"snapshot", R"(["id",")" + p.session
                                 + R"(","status","complete"])"},
                  {"wh:" + p.endpoint, delivered}}});
  out.push_back({"txn:txn_" + p.suffix,
                 {{"id", "txn_" + p.suffix}, {"type", "charge"},
                  {"source", p.charge}, {"amount", amount}, {"fee", "103"},
                  {"net", std::to_string(std::stoll(amount) - 103)},
                  {"currency", "usd"}, {"created", "1796038564"},
                  {"merchant", p.merchant}, {"intent", p.intent}}});
  out.push_back({"charge:" + p.charge, {{"intent", p.intent}}});
  return out;
}

std::vector<stored_object> finished_refund(const payment_ids& p,
                                           const std::string& suffix,
                                           const std::string& amount,
                                           const std::string& status) {
  const std::string id = "re_" + suffix;
  const std::string delivered = "delivered|1|1796039000|";
  bool ok = status == "succeeded";
  std::vector<stored_object> out;
  stored_object re{"re:" + id,
                   {{"id", id}, {"merchant", p.merchant}, {"amount", amount},
                    {"currency", "usd"}, {"payment_intent", p.intent},
                    {"charge", p.charge}, {"status", status},
                    {"reason", "requested_by_customer"}, {"metadata", "{}"},
                    {"created", "1796039000"}}};
  re.fields.emplace_back(ok ? "network_refund" : "failure_reason",
                         ok ? "re_b5e55436f297eeaabd54b95e" : "expired_card");
  out.push_back(std::move(re));
  out.push_back({"pa:" + id,
                 {{"intent", p.intent}, {"status", ok ? "succeeded" : "failed"},
                  {"kind", "refund"}, {"amount", amount},
                  {"created", "1796039000"}, {"finished", "1796039001"}}});
  out.push_back({"txn:txn_" + suffix,
                 ok ? std::vector<std::pair<std::string, std::string>>{
                        {"id", "txn_" + suffix}, {"type", "refund"},
                        {"source", id}, {"amount", "-" + amount}, {"fee", "0"},
                        {"net", "-" + amount}, {"currency", "usd"},
                        {"created", "1796039001"}, {"merchant", p.merchant},
                        {"intent", p.intent}}
                    : std::vector<std::pair<std::string, std::string>>{}});
  auto event = [&](const std::string& tag, const std::string& type,
                   const std::string& object) {
    return stored_object{"evt:evt_" + suffix + tag,
                         {{"type", type}, {"created", "1796039001"},
                          {"merchant", p.merchant}, {"object", object},
                          {"snapshot", R"(["id",")" + id + R"(","status",")"
                                         + status + R"("])"},
                          {"wh:" + p.endpoint, delivered}}};
  };
  out.push_back(event("N", "refund.created", "refund"));
  out.push_back(event("U", ok ? "refund.updated" : "refund.failed", "refund"));
  out.push_back(ok ? event("R", "charge.refunded", "charge")
                   : stored_object{"evt:evt_" + suffix + "R", {}});
  return out;
}

namespace {

/// An event hash as the Lua steps write it, delivered once to `p`'s
/// endpoint.
stored_object delivered_event(const payment_ids& p, const std::string& key,
                              const std::string& type,
                              const std::string& object,
                              const std::string& snapshot,
                              const std::string& at) {
  return {key,
          {{"type", type}, {"created", at}, {"merchant", p.merchant},
           {"object", object}, {"snapshot", snapshot},
           {"wh:" + p.endpoint, "delivered|1|" + at + "|"}}};
}

} // namespace

std::vector<stored_object> expired_session(const payment_ids& p) {
  auto random_part = p.session.substr(p.session.rfind('_') + 1);
  std::vector<stored_object> out;
  out.push_back(
    {"cs:" + p.session,
     {{"id", p.session}, {"merchant", p.merchant},
      {"merchant_name", "Example Shop"}, {"intent", p.intent},
      {"status", "expired"}, {"payment_status", "unpaid"},
      {"amount_total", "2500"}, {"currency", "usd"},
      {"line_items", R"([{"amount_total":2500,"name":"Mug","quantity":1}])"},
      {"success_url", "https://shop.example/success"},
      {"expires_at", "1796040361"}, {"created", "1796038561"},
      {"url", "https://pay.example/pay/" + p.session},
      {"expired_at", "1796040362"}}});
  out.push_back(delivered_event(
    p, "evt:evt_" + random_part + "E", "checkout.session.expired",
    "checkout.session", R"(["id",")" + p.session + R"(","status","expired"])",
    "1796040362"));
  out.push_back(delivered_event(
    p, "evt:evt_" + random_part + "X", "payment_intent.canceled",
    "payment_intent", R"(["id",")" + p.intent + R"(","status","canceled"])",
    "1796040362"));
  out.push_back({"pi:" + p.intent,
                 {{"id", p.intent}, {"merchant", p.merchant},
                  {"session", p.session}, {"amount", "2500"},
                  {"currency", "usd"}, {"status", "canceled"},
                  {"created", "1796038561"}, {"capture_method", "automatic"},
                  {"fee_bps", "290"}, {"fee_fixed_minor", "30"},
                  {"canceled_at", "1796040362"},
                  {"cancellation_reason", "abandoned"},
                  {"updated", "1796040362"}}});
  return out;
}

std::vector<stored_object> declined_attempt(const payment_ids& p,
                                            const std::string& suffix) {
  std::vector<stored_object> out;
  out.push_back({"pa:pa_" + suffix,
                 {{"intent", p.intent}, {"status", "failed"},
                  {"kind", "charge"}, {"brand", "visa"}, {"last4", "0002"},
                  {"created", "1796038562"}, {"exp_month", "12"},
                  {"exp_year", "2030"}, {"finished", "1796038562"},
                  {"decline_code", "generic_decline"}}});
  out.push_back(delivered_event(
    p, "evt:evt_" + suffix + "F", "payment_intent.payment_failed",
    "payment_intent",
    R"(["id",")" + p.intent + R"(","status","requires_payment_method"])",
    "1796038562"));
  return out;
}

} // namespace psp::test
