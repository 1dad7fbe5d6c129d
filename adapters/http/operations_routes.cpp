#include "adapters/http/admin_auth.hpp"
#include "adapters/http/request_support.hpp"
#include "adapters/http/routes.hpp"

#include "actors/clock.hpp"
#include "actors/ownership.hpp"
#include "adapters/crypto/digest.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/scripts.hpp"

#include <httplib.h>

#include <sstream>

namespace psp::http {

namespace {

using json = nlohmann::json;

json entry_json(const redis::value& entry) {
  json out{{"id", entry.elements[0].text()}};
  auto& f = entry.elements[1].elements;
  for (size_t i = 0; i + 1 < f.size(); i += 2) {
    out[f[i].text()] = f[i + 1].text();
  }
  return out;
}

void list_dead_letters(api_context& ctx, const httplib::Request& req,
                       httplib::Response& res) {
  if (!admin_allowed(ctx, req, res)) {
    return;
  }
  // Oldest first, `limit` (1-1000, default 100) at a time; the next page
  // starts after the last id of this one.
  int64_t limit = 100;
  if (req.has_param("limit")) {
    auto n = parse_count(req.get_param_value("limit"));
    if (!n || *n < 1 || *n > 1000) {
      return write_error(res, invalid_param("limit", "limit must be an "
                                                     "integer from 1 to 1000."));
    }
    limit = *n;
  }
  std::string from = "-";
  if (req.has_param("starting_after")) {
    auto after = req.get_param_value("starting_after");
    auto dash = after.find('-');
    bool is_stream_id = dash != std::string::npos
                        && parse_count(after.substr(0, dash))
                        && parse_count(after.substr(dash + 1));
    if (!is_stream_id) {
      return write_error(res, invalid_param("starting_after",
                                            "starting_after must be a dead "
                                            "letter id (<ms>-<seq>)."));
    }
    from = "(" + after;
  }
  auto conn = ctx.redis.acquire();
  auto entries = conn->query({"XRANGE", keys::dead_letter_stream, from, "+",
                              "COUNT", std::to_string(limit + 1)});
  auto total = conn->query({"XLEN", keys::dead_letter_stream});
  if (!entries || !total) {
    return write_error(res, unavailable("The dead-letter stream"));
  }
  auto data = json::array();
  for (auto& e : entries->elements) {
    if (static_cast<int64_t>(data.size()) < limit) {
      data.push_back(entry_json(e));
    }
  }
  bool has_more = static_cast<int64_t>(entries->elements.size()) > limit;
  write_json(res, json{{"object", "list"},
                       {"data", data},
                       {"has_more", has_more},
                       {"total_count", total->integer}}
                    .dump());
}

void replay_dead_letter(api_context& ctx, const httplib::Request& req,
                        httplib::Response& res) {
  if (!admin_allowed(ctx, req, res)) {
    return;
  }
  std::string id = req.matches[1];
  auto conn = ctx.redis.acquire();
  auto out = redis::eval(*conn, redis::replay_dead_letter_script(),
                         {keys::dead_letter_stream, keys::deliveries_due},
                         {id, std::to_string(unix_now_ms()),
                          std::to_string(unix_now_s())});
  if (!out || out->is_error() || out->elements.empty()) {
    return write_error(res, unavailable("The dead-letter stream"));
  }
  auto verdict = out->elements[0].text();
  if (verdict == "missing") {
    return write_error(res, not_found("dead letter", id));
  }
  if (verdict == "endpoint_deleted") {
    api_error e;
    e.status = 409;
    e.type = "invalid_request_error";
    e.code = "endpoint_deleted";
    e.message = "The webhook endpoint of this delivery was deleted; there "
                "is nothing to deliver it to.";
    return write_error(res, e);
  }
  json body{{"id", id}, {"result", verdict}};
  if (out->elements.size() >= 3) {
    body["kind"] = out->elements[1].text();
    body["ref"] = out->elements[2].text();
  }
  write_json(res, body.dump());
}

void metrics(api_context& ctx, httplib::Response& res) {
  auto conn = ctx.redis.acquire();
  std::vector<std::vector<std::string>> cmds{{"ZCARD", keys::deliveries_due},
                                             {"XLEN", keys::dead_letter_stream}};
  for (uint32_t p = 0; p < payment_partitions; ++p) {
    cmds.push_back({"XLEN", keys::payment_stream(p)});
    cmds.push_back({"XPENDING", keys::payment_stream(p), keys::payment_group});
  }
  auto q = conn->query_all(cmds);
  std::ostringstream out;
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name
        << " counter\n" << name << ' ' << v << '\n';
  };
  auto gauge = [&](const char* name, const char* help, int64_t v) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name
        << " gauge\n" << name << ' ' << v << '\n';
  };
  auto& c = ctx.counters;
  counter("psp_http_requests_total", "HTTP requests answered.", c.requests);
  counter("psp_http_client_errors_total", "Answers with a 4xx status.",
          c.errors_4xx);
  counter("psp_http_server_errors_total", "Answers with a 5xx status.",
          c.errors_5xx);
  counter("psp_checkout_sessions_created_total",
          "Checkout sessions created by this node.", c.sessions_created);
  counter("psp_payments_submitted_total",
          "Card submissions queued by this node.", c.payments_submitted);
  gauge("psp_redis_up", "1 if Redis answered this scrape.", q ? 1 : 0);
  if (q && q->size() == cmds.size()) {
    int64_t length = 0;
    int64_t pending = 0;
    for (size_t i = 2; i + 1 < q->size(); i += 2) {
      length += (*q)[i].integer;
      auto& summary = (*q)[i + 1];
      if (summary.is_array() && !summary.elements.empty()) {
        pending += summary.elements[0].integer;
      }
    }
    gauge("psp_payment_stream_length",
          "Entries in the payment stream (all partitions).", length);
    gauge("psp_payment_stream_pending",
          "Entries delivered to a worker and not yet acknowledged.", pending);
    // Per partition: a partition whose entries pile up names the node that
    // should read it (GET /healthz on each node lists its partitions).
    out << "# HELP psp_payment_partition_length Entries in one partition of "
           "the payment stream.\n# TYPE psp_payment_partition_length gauge\n";
    for (uint32_t p = 0; p < payment_partitions; ++p) {
      out << "psp_payment_partition_length{partition=\"" << p << "\"} "
          << (*q)[2 + 2 * p].integer << '\n';
    }
    gauge("psp_webhook_deliveries_scheduled",
          "Webhook deliveries waiting for their next try.", (*q)[0].integer);
    gauge("psp_dead_letters", "Entries in the dead-letter stream.",
          (*q)[1].integer);
  }
  res.set_content(out.str(), "text/plain; version=0.0.4");
}

} // namespace

void add_operations_routes(httplib::Server& srv, api_context& ctx) {
  srv.Get("/healthz", [&ctx](const httplib::Request&, httplib::Response& res) {
    auto conn = ctx.redis.acquire();
    auto pong = conn->query({"PING"});
    conn.reset();
    bool ok = pong && pong->text() == "PONG";
    json body{{"status", ok ? "ok" : "degraded"}, {"redis", ok ? "up" : "down"}};
    if (ctx.cluster_members) {
      // The members this node works with (registered and connected),
      // itself included; what ownership and the quorum rule are computed on.
      // And the payment stream partitions that view gives this node (it
      // reads them while it has the quorum).
      auto members = ctx.cluster_members();
      body["cluster"] =
        members ? json{{"members", *members},
                       {"partitions",
                        owned_partitions(ctx.settings.node_id, *members)}}
                : json{{"members", nullptr}, {"partitions", nullptr}};
    }
    write_json(res, body.dump(), ok ? 200 : 503);
  });
  srv.Get("/metrics", [&ctx](const httplib::Request&, httplib::Response& res) {
    metrics(ctx, res);
  });
  srv.Get("/admin/dead_letters",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            list_dead_letters(ctx, req, res);
          });
  srv.Post(R"(/admin/dead_letters/([0-9]+-[0-9]+)/replay)",
           [&ctx](const httplib::Request& req, httplib::Response& res) {
             replay_dead_letter(ctx, req, res);
           });
}

} // namespace psp::http
