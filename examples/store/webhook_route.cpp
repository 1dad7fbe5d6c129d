// POST /webhook and the admin knobs around it. The order of checks matters:
// fault injection first (an experiment wants the PSP to see a failure no
// matter what it sent), then signatures, then parsing, then deduplication.
#include "store_routes.hpp"

#include "webhook_event.hpp"
#include "webhook_verify.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

namespace store {

namespace {

using json = nlohmann::json;

constexpr const char* json_type = "application/json";
// Injected delays sleep in slices so shutdown is not held up by them.
constexpr int64_t delay_slice_ms = 50;

void send_json(httplib::Response& res, int status, const json& doc) {
  res.status = status;
  res.set_content(doc.dump(-1, ' ', false, json::error_handler_t::replace),
                  json_type);
}

void sleep_unless_stopping(int64_t delay_ms, const store_state& st) {
  while (delay_ms > 0 && !st.stopping.load()) {
    auto slice = std::min(delay_ms, delay_slice_ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(slice));
    delay_ms -= slice;
  }
}

void reject(httplib::Response& res, store_state& st, const std::string& why) {
  ++st.stats.rejected;
  std::cerr << "example-store: webhook rejected: " << why << std::endl;
  send_json(res, 400, {{"error", why}});
}

void handle_webhook(const httplib::Request& req, httplib::Response& res,
                    store_state& st) {
  ++st.stats.received;
  if (auto fault = st.faults.take()) {
    sleep_unless_stopping(fault->delay_ms, st);
    ++st.stats.faulted;
    send_json(res, fault->status, {{"error", "injected fault"}});
    return;
  }
  auto secret = st.secret.get();
  if (secret.empty()) {
    // Registration has not finished; the PSP will retry later.
    send_json(res, 503, {{"error", "webhook endpoint not registered yet"}});
    return;
  }
  webhook_headers headers{req.get_header_value("Stripe-Signature"),
                          req.get_header_value("webhook-id"),
                          req.get_header_value("webhook-timestamp"),
                          req.get_header_value("webhook-signature")};
  auto err = verify_webhook(headers, req.body, secret, unix_now_s());
  if (err != verify_error::none) {
    reject(res, st, to_string(err));
    return;
  }
  auto ev = parse_webhook_event(req.body);
  if (!ev) {
    reject(res, st, "signed body is not an event");
    return;
  }
  ++st.stats.verified;
  auto outcome = st.orders.apply(*ev, unix_now_s());
  if (outcome == apply_outcome::not_recorded) {
    // The journal refused it and nothing changed: a 5xx makes the PSP
    // deliver it again later.
    send_json(res, 503, {{"error", "cannot record the event now"}});
    return;
  }
  if (outcome == apply_outcome::duplicate) {
    ++st.stats.duplicates;
  }
  // Unknown orders are acknowledged too: retrying would not make them known.
  send_json(res, 200,
            {{"received", true},
             {"duplicate", outcome == apply_outcome::duplicate},
             {"matched_order", outcome != apply_outcome::unknown_order}});
}

json faults_json(const fault_settings& s) {
  return {{"fail_next", s.fail_next},
          {"fail_all", s.fail_all},
          {"status", s.status},
          {"delay_ms", s.delay_ms}};
}

void handle_set_faults(const httplib::Request& req, httplib::Response& res,
                       store_state& st) {
  auto settings = st.faults.get();
  if (auto err = merge_fault_request(req.body, settings)) {
    send_json(res, 400, {{"error", *err}});
    return;
  }
  st.faults.set(settings);
  send_json(res, 200, faults_json(settings));
}

json stats_json(const store_state& st) {
  return {{"webhooks_received", st.stats.received.load()},
          {"webhooks_verified", st.stats.verified.load()},
          {"webhooks_rejected", st.stats.rejected.load()},
          {"duplicates", st.stats.duplicates.load()},
          {"webhooks_faulted", st.stats.faulted.load()},
          {"orders", st.orders.order_count()},
          {"event_ids_remembered", st.orders.event_ids_remembered()}};
}

} // namespace

void install_webhook_routes(httplib::Server& server, store_state& st) {
  server.Post("/webhook",
              [&st](const httplib::Request& req, httplib::Response& res) {
                handle_webhook(req, res, st);
              });
  server.Get("/admin/stats",
             [&st](const httplib::Request&, httplib::Response& res) {
               send_json(res, 200, stats_json(st));
             });
  server.Post("/admin/webhook_faults",
              [&st](const httplib::Request& req, httplib::Response& res) {
                handle_set_faults(req, res, st);
              });
  server.Get("/admin/webhook_faults",
             [&st](const httplib::Request&, httplib::Response& res) {
               send_json(res, 200, faults_json(st.faults.get()));
             });
}

} // namespace store
