#include "pages.hpp"

#include "catalog.hpp"

#include <ctime>

namespace store {

namespace {

std::string layout(std::string_view title, std::string_view body,
                   bool refresh = false) {
  std::string out = "<!doctype html>\n<html><head><meta charset=\"utf-8\">";
  if (refresh) {
    out += "<meta http-equiv=\"refresh\" content=\"2\">";
  }
  out += "<title>" + html_escape(title) + " - Example Store</title>";
  out += "<style>body{font-family:sans-serif;max-width:46em;margin:2em auto}"
         ".product{border:1px solid #ccc;padding:1em;margin:1em 0}"
         ".paid{color:#080}.pending{color:#a60}.expired{color:#777}.error{color:#b00}"
         "table{border-collapse:collapse}td,th{padding:.2em .8em;"
         "border-bottom:1px solid #ddd;text-align:left}</style>";
  out += "</head><body><p><a href=\"/\">Example Store</a></p>\n<h1>" +
         html_escape(title) + "</h1>\n";
  out.append(body.data(), body.size());
  out += "\n</body></html>\n";
  return out;
}

std::string utc_time(int64_t unix_s) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string status_badge(order_status status) {
  const char* name = to_string(status);
  return std::string("<strong class=\"") + name + "\">" + name + "</strong>";
}

std::string events_table(const order& o) {
  if (o.events.empty()) {
    return "<p>No webhook events received yet.</p>";
  }
  std::string out = "<table><tr><th>event</th><th>type</th>"
                    "<th>received</th></tr>";
  for (const auto& ev : o.events) {
    out += "<tr><td>" + html_escape(ev.id) + "</td><td>" +
           html_escape(ev.type) + "</td><td>" + utc_time(ev.received_unix_s) +
           "</td></tr>";
  }
  out += "</table>";
  if (o.events_dropped > 0) {
    out += "<p>" + std::to_string(o.events_dropped) +
           " more events not listed.</p>";
  }
  return out;
}

} // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out.push_back(c);
    }
  }
  return out;
}

std::string product_page() {
  std::string body;
  for (const auto& p : catalog()) {
    body += "<div class=\"product\"><h2>" + html_escape(p.name) + "</h2><p>" +
            html_escape(p.description) + "</p><p><strong>" +
            format_money(p.unit_amount_minor, p.currency) +
            "</strong></p><form method=\"post\" action=\"/buy\">"
            "<input type=\"hidden\" name=\"product\" value=\"" +
            html_escape(p.id) +
            "\"><label>Quantity <input type=\"number\" name=\"quantity\" "
            "value=\"1\" min=\"1\" max=\"" +
            std::to_string(quantity_max) +
            "\"></label> <button type=\"submit\">Buy</button></form></div>\n";
  }
  body += "<p><a href=\"/orders.json\">orders.json</a> &middot; "
          "<a href=\"/admin/stats\">webhook stats</a></p>";
  return layout("Products", body);
}

std::string order_page(const order& o) {
  std::string body = "<p>Status: " + status_badge(o.status) + "</p>";
  body += "<p>" + std::to_string(o.quantity) + " &times; " +
          html_escape(o.product_name) + ": " +
          format_money(o.amount_minor, o.currency) + "</p>";
  if (!o.session_id.empty()) {
    body += "<p>Checkout session: " + html_escape(o.session_id) + "</p>";
  }
  if (!o.payment_intent.empty()) {
    body += "<p>Payment intent: " + html_escape(o.payment_intent) + "</p>";
  }
  if (!o.last_failure_message.empty()) {
    // After a later success the failure is history, not an alarm.
    body += std::string("<p class=\"error\">") +
            (o.status == order_status::paid ? "An earlier payment attempt"
                                            : "The last payment attempt") +
            " failed: " + html_escape(o.last_failure_message) + "</p>";
  }
  if (o.status == order_status::pending && !o.checkout_url.empty()) {
    body += "<p><a href=\"" + html_escape(o.checkout_url) +
            "\">Go to payment</a></p>";
  }
  body += "<h2>Events</h2>" + events_table(o);
  return layout("Order " + o.id, body);
}

std::string success_page(const order& o, const checkout_session& session) {
  bool paid = o.status == order_status::paid;
  std::string body;
  if (paid) {
    body += "<p class=\"paid\">Thank you! Order " + html_escape(o.id) +
            " is <strong>paid</strong>.</p>";
  } else {
    // The redirect can beat the webhook; only the signed event counts.
    body += "<p class=\"pending\">Order " + html_escape(o.id) +
            " is <strong>waiting for confirmation</strong>. This page "
            "refreshes until the payment is confirmed.</p>";
  }
  body += "<p>The PSP reports the session as " + html_escape(session.status) +
          " / " + html_escape(session.payment_status) + ".</p>";
  body +=
      "<p><a href=\"/orders/" + html_escape(o.id) + "\">Order details</a></p>";
  return layout(paid ? "Payment confirmed" : "Waiting for confirmation", body,
                !paid);
}

std::string error_page(std::string_view title, std::string_view message) {
  std::string body = "<p class=\"error\">" + html_escape(message) +
                     "</p><p><a href=\"/\">"
                     "Back to the shop</a></p>";
  return layout(title, body);
}

} // namespace store
