#include "adapters/archive/archive_codec.hpp"

namespace psp::archive {

namespace {

// One paid checkout as the commit step leaves it, field for field: every
// field name, status, event type and snapshot shape, for the merchants
// whose first archived payment lacks some (the ids are made-up ones of the
// right shapes). Stored dictionaries copy these bytes, so editing them
// changes only dictionaries made afterwards.
std::vector<stored_object> template_payment() {
  const std::string merchant = "acct_XQKg6TWuucSEdiar7cwFve7q";
  const std::string pi = "pi_zyrVunL1NPH8yHMdxQ4g1ApZ";
  const std::string cs = "cs_test_Cqd1XopzhydY2t38bPZkFlZm";
  const std::string suffix = "9Wa8ry6lPsKWQgVjmLrj3RPl";
  const std::string charge = "ch_cbee03478165bce34109c68d";
  const std::string endpoint = "we_nRP31HOGhWe0nNOiRKvXiXgZ";
  return {
    {"pi:" + pi,
     {{"id", pi}, {"merchant", merchant}, {"session", cs}, {"amount", "2500"},
      {"currency", "usd"}, {"status", "succeeded"}, {"created", "1796038561"},
      {"capture_method", "automatic"}, {"fee_bps", "290"},
      {"fee_fixed_minor", "30"}, {"attempt", "pa_" + suffix},
      {"confirm_nonce", "bd7406eda8b99-n-871"}, {"card_brand", "visa"},
      {"card_last4", "4242"}, {"payment_method", "pm_" + suffix},
      {"updated", "1796038563"}, {"latest_charge", charge},
      {"amount_received", "2500"}, {"fee", "103"},
      {"processed_by", "node-1"}}},
    {"cs:" + cs,
     {{"id", cs}, {"merchant", merchant}, {"merchant_name", "Example Shop"},
      {"intent", pi}, {"status", "complete"}, {"payment_status", "paid"},
      {"amount_total", "2500"}, {"currency", "usd"},
      {"line_items", R"([{"amount_total":2500,"name":"Cotton T-shirt","quantity":1,"unit_amount":2500}])"},
      {"success_url", "https://shop.example/success"},
      {"cancel_url", "https://shop.example/cart"},
      {"customer_email", "shopper@example.com"},
      {"client_reference_id", "order-1511"}, {"metadata", R"({"order_id":"1511"})"},
      {"expires_at", "1796124961"}, {"created", "1796038561"},
      {"url", "https://pay.example/pay/" + cs},
      {"completed", "1796038563"}}},
    {"pa:pa_" + suffix,
     {{"intent", pi}, {"status", "succeeded"}, {"kind", "charge"},
      {"brand", "visa"}, {"last4", "4242"}, {"created", "1796038564"},
      {"exp_month", "12"}, {"exp_year", "2030"}, {"finished", "1796038564"},
      {"charge", charge}}},
    {"evt:evt_" + suffix + "S",
     {{"type", "payment_intent.succeeded"}, {"created", "1796038564"},
      {"merchant", merchant}, {"object", "payment_intent"},
      {"snapshot",
       R"(["id",")" + pi + R"(","amount","2500","currency","usd","status","succeeded","created","1796038561","capture_method","automatic","card_brand","visa","card_last4","4242","payment_method","pm_)"
         + suffix + R"(","latest_charge",")" + charge
         + R"(","amount_received","2500"])"},
      {"wh:" + endpoint, "delivered|1|1796038564|"}}},
    {"evt:evt_" + suffix + "C",
     {{"type", "checkout.session.completed"}, {"created", "1796038564"},
      {"merchant", merchant}, {"object", "checkout.session"},
      {"snapshot",
       R"(["id",")" + cs + R"(","intent",")" + pi
         + R"(","status","complete","payment_status","paid","amount_total","2500","currency","usd","success_url","https:\/\/shop.example\/success","expires_at","1796124961","created","1796038561","url","https:\/\/pay.example\/pay\/)"
         + cs + R"(","completed","1796038563"])"},
      {"wh:" + endpoint, "delivered|1|1796038564|"}}},
    {"txn:txn_" + suffix,
     {{"id", "txn_" + suffix}, {"type", "charge"}, {"source", charge},
      {"amount", "2500"}, {"fee", "103"}, {"net", "2397"}, {"currency", "usd"},
      {"created", "1796038564"}, {"merchant", merchant}, {"intent", pi}}},
    {"charge:" + charge, {{"intent", pi}}},
  };
}

} // namespace

const std::string& template_bytes() {
  static const std::string bytes = serialize(template_payment());
  return bytes;
}

} // namespace psp::archive
