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

// One finished refund of that charge, as refund_routes.cpp and the commit
// step leave it: refunds are archived apart (archive_plan.hpp), and
// without these shapes in the dictionary they pack to ~460 B.
std::vector<stored_object> template_refund() {
  const std::string merchant = "acct_XQKg6TWuucSEdiar7cwFve7q";
  const std::string pi = "pi_zyrVunL1NPH8yHMdxQ4g1ApZ";
  const std::string suffix = "HPRYvqQgrxitKmovjmTZfNXP";
  const std::string re = "re_" + suffix;
  const std::string charge = "ch_cbee03478165bce34109c68d";
  const std::string endpoint = "we_nRP31HOGhWe0nNOiRKvXiXgZ";
  const std::string delivered = "delivered|1|1796049205|";
  const std::string refund_fields =
    R"(["id",")" + re + R"(","amount","700","currency","usd","payment_intent",")"
    + pi + R"(","charge",")" + charge
    + R"(","status","pending","reason","requested_by_customer","metadata","{}","created","1796049205"])";
  return {
    {"re:" + re,
     {{"id", re}, {"merchant", merchant}, {"amount", "700"},
      {"currency", "usd"}, {"payment_intent", pi}, {"charge", charge},
      {"status", "succeeded"}, {"reason", "requested_by_customer"},
      {"metadata", "{}"}, {"created", "1796049205"},
      {"network_refund", "re_12dd4e6b517591256af29071"}}},
    {"pa:" + re,
     {{"intent", pi}, {"status", "succeeded"}, {"kind", "refund"},
      {"amount", "700"}, {"created", "1796049205"},
      {"finished", "1796049205"}}},
    {"txn:txn_" + suffix,
     {{"id", "txn_" + suffix}, {"type", "refund"}, {"source", re},
      {"amount", "-700"}, {"fee", "0"}, {"net", "-700"}, {"currency", "usd"},
      {"created", "1796049205"}, {"merchant", merchant}, {"intent", pi}}},
    {"evt:evt_" + suffix + "N",
     {{"type", "refund.created"}, {"created", "1796049205"},
      {"merchant", merchant}, {"object", "refund"},
      {"snapshot", refund_fields}, {"wh:" + endpoint, delivered}}},
    {"evt:evt_" + suffix + "U",
     {{"type", "refund.updated"}, {"created", "1796049205"},
      {"merchant", merchant}, {"object", "refund"},
      {"snapshot",
       refund_fields.substr(0, refund_fields.size() - 1)
         + R"(,"network_refund","re_12dd4e6b517591256af29071"])"},
      {"wh:" + endpoint, delivered}}},
    {"evt:evt_" + suffix + "R",
     {{"type", "charge.refunded"}, {"created", "1796049205"},
      {"merchant", merchant}, {"object", "charge"},
      {"snapshot",
       R"(["id",")" + pi + R"(","amount","2500","currency","usd","status","succeeded","created","1796038561","capture_method","automatic","card_brand","visa","card_last4","4242","payment_method","pm_9Wa8ry6lPsKWQgVjmLrj3RPl","latest_charge",")"
         + charge + R"(","amount_received","2500","amount_refunded","700"])"},
      {"wh:" + endpoint, delivered}}},
  };
}

} // namespace

const std::string& template_bytes() {
  static const std::string bytes =
    serialize(template_payment()) + serialize(template_refund());
  return bytes;
}

} // namespace psp::archive
