#include "store_routes.hpp"

#include "catalog.hpp"
#include "order_sync.hpp"
#include "pages.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>

namespace store {

namespace {

using json = nlohmann::json;

constexpr const char* html_type = "text/html; charset=utf-8";
constexpr const char* json_type = "application/json";
// Session ids come back from the shopper's browser; only the PSP's id
// alphabet is passed on, so nothing odd reaches the PSP's URL path.
constexpr size_t session_id_length_max = 255;

void send_html(httplib::Response& res, int status, const std::string& html) {
  res.status = status;
  res.set_content(html, html_type);
}

void send_error_page(httplib::Response& res, int status, std::string_view title,
                     std::string_view message) {
  send_html(res, status, error_page(title, message));
}

bool valid_session_id(const std::string& id) {
  if (id.empty() || id.size() > session_id_length_max) {
    return false;
  }
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

// "" → 1, "1".."10" → value, anything else → 0 (invalid).
int64_t parse_quantity(const std::string& text) {
  if (text.empty()) {
    return 1;
  }
  if (text.size() > 2) {
    return 0;
  }
  int64_t q = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return 0;
    }
    q = q * 10 + (c - '0');
  }
  return q >= 1 && q <= quantity_max ? q : 0;
}

// Reads a field from the form body, falling back to the query string.
std::string field(const httplib::Request& req, const form_fields& form,
                  const char* key) {
  auto value = form_value(form, key);
  return value.empty() ? req.get_param_value(key) : value;
}

void handle_buy(const httplib::Request& req, httplib::Response& res,
                store_state& st) {
  auto form = decode_form(req.body);
  auto product_id = field(req, form, "product");
  // A bare POST /buy buys the first product: handy for scripts and curl.
  const product* item =
      product_id.empty() ? &catalog().front() : find_product(product_id);
  if (item == nullptr) {
    send_error_page(res, 400, "Unknown product",
                    "There is no product '" + product_id + "'.");
    return;
  }
  auto quantity = parse_quantity(field(req, form, "quantity"));
  if (quantity == 0) {
    send_error_page(res, 400, "Bad quantity",
                    "Quantity must be a whole number from 1 to " +
                        std::to_string(quantity_max) + ".");
    return;
  }
  auto created = st.orders.create(*item, quantity, unix_now_s());
  if (!created) {
    send_error_page(res, 503, "Shop full",
                    "The shop cannot take more orders right now.");
    return;
  }
  // The same request catch_up_pending_orders sends again after a stop, so
  // the Idempotency-Key's stored answer matches it.
  auto session =
    st.psp.create_checkout_session(checkout_request_of(*created, st.public_url));
  if (!session.ok() || session.value->url.empty()) {
    auto message = session.ok()
                       ? std::string("the PSP returned no checkout URL")
                       : session.error.message;
    send_error_page(res, 502, "Payment provider error", message);
    return;
  }
  if (!st.orders.attach_session(created->id, session.value->id,
                                session.value->payment_intent,
                                session.value->url)) {
    // Only after the journal failed: the store takes no changes until it
    // is restarted, so it sends no shopper to pay meanwhile.
    send_error_page(res, 503, "Shop unavailable",
                    "The shop cannot record orders right now.");
    return;
  }
  res.status = 303;
  res.set_header("Location", session.value->url);
}

void handle_success(const httplib::Request& req, httplib::Response& res,
                    store_state& st) {
  auto session_id = req.get_param_value("session_id");
  if (!valid_session_id(session_id)) {
    send_error_page(res, 400, "Bad request",
                    "session_id is missing or malformed.");
    return;
  }
  auto session = st.psp.retrieve_checkout_session(session_id);
  if (!session.ok()) {
    // The PSP not knowing the session is the shopper's problem (a stale or
    // edited link); anything else is the PSP's.
    bool unknown = session.error.status == 404;
    send_error_page(res, unknown ? 404 : 502,
                    unknown ? "Unknown session" : "Payment provider error",
                    session.error.message);
    return;
  }
  auto found = st.orders.find(session.value->client_reference_id);
  if (!found) {
    found = st.orders.find_by_session(session_id);
  }
  if (!found) {
    send_error_page(res, 404, "Unknown order",
                    "No order belongs to session " + session_id + ".");
    return;
  }
  // The shopper may be back before the webhook (or the webhook lost with
  // an endpoint the store no longer has): the PSP's word settles it.
  if (found->session_id == session_id
      && sync_order(st.orders, *found, *session.value, unix_now_s())) {
    found = st.orders.find(found->id);
  }
  send_html(res, 200, success_page(*found, *session.value));
}

json order_json(const order& o) {
  json events = json::array();
  for (const auto& ev : o.events) {
    events.push_back(
        {{"id", ev.id}, {"type", ev.type}, {"received", ev.received_unix_s}});
  }
  return {{"id", o.id},
          {"status", to_string(o.status)},
          {"product", o.product_id},
          {"quantity", o.quantity},
          {"amount", o.amount_minor},
          {"currency", o.currency},
          {"session_id", o.session_id},
          {"payment_intent", o.payment_intent},
          {"last_failure_message", o.last_failure_message},
          {"created", o.created_unix_s},
          {"events", std::move(events)}};
}

} // namespace

int64_t unix_now_s() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

void webhook_secret::set(std::string secret) {
  std::lock_guard<std::mutex> guard(mtx_);
  secret_ = std::move(secret);
}

std::string webhook_secret::get() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return secret_;
}

void install_routes(httplib::Server& server, store_state& st) {
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    send_html(res, 200, product_page());
  });
  server.Post("/buy",
              [&st](const httplib::Request& req, httplib::Response& res) {
                handle_buy(req, res, st);
              });
  server.Get("/success",
             [&st](const httplib::Request& req, httplib::Response& res) {
               handle_success(req, res, st);
             });
  server.Get(R"(/orders/([^/]+))",
             [&st](const httplib::Request& req, httplib::Response& res) {
               auto found = st.orders.find(req.matches[1].str());
               if (!found) {
                 send_error_page(res, 404, "Unknown order", "No such order.");
                 return;
               }
               send_html(res, 200, order_page(*found));
             });
  server.Get("/orders.json", [&st](const httplib::Request&,
                                   httplib::Response& res) {
    json orders = json::array();
    for (const auto& o : st.orders.snapshot()) {
      orders.push_back(order_json(o));
    }
    json doc{{"orders", std::move(orders)}};
    res.set_content(doc.dump(-1, ' ', false, json::error_handler_t::replace),
                    json_type);
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  install_webhook_routes(server, st);
}

} // namespace store
