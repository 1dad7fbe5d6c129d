// /healthz and /metrics: what a load balancer and Prometheus read (no
// token). The dead letters the metrics count: dead_letter_routes.cpp.

#include "adapters/http/request_support.hpp"
#include "adapters/http/routes.hpp"

#include "actors/clock.hpp"
#include "actors/decimal.hpp"
#include "actors/ownership.hpp"
#include "adapters/redis/archive_scripts.hpp"
#include "adapters/redis/keys.hpp"

#include <httplib.h>

#include <algorithm>
#include <optional>
#include <sstream>

namespace psp::http {

namespace {

using json = nlohmann::json;

/// Whether Redis answers, and takes a write: PING passes while Redis
/// refuses every write (out of memory under noeviction, a read-only
/// replica), and then no payment can be committed.
struct redis_health {
  bool up = false;
  bool writable = false;
  std::string refusal; ///< Redis's error for the write, when refused
};

/// The probe write: a key of this node's that expires by itself.
std::vector<std::string> probe_command(api_context& ctx) {
  return {"SET", keys::health_probe(ctx.settings.node_id),
          std::to_string(unix_now_ms()), "PX", "60000"};
}

/// What the probe's reply (nullopt: Redis did not answer) says.
redis_health judge_probe(const std::optional<redis::value>& reply) {
  redis_health out;
  out.up = reply.has_value();
  out.writable = out.up && !reply->is_error();
  if (out.up && reply->is_error()) {
    out.refusal = reply->str.substr(0, 200);
  }
  return out;
}

redis_health probe_redis(api_context& ctx) {
  auto conn = ctx.redis.acquire();
  return judge_probe(conn->run(probe_command(ctx)));
}

void metrics(api_context& ctx, httplib::Response& res) {
  // The probe write and the reads in one round trip; the probe is judged
  // on its own, so a refused write leaves the queue gauges readable.
  std::vector<std::vector<std::string>> cmds{
    probe_command(ctx),
    {"ZCARD", keys::deliveries_due},
    {"XLEN", keys::dead_letter_stream},
    {"LLEN", redis::archive_due_key},
    {"ZCARD", keys::sessions_expiring}};
  // Where each partition's two replies start among the reads.
  constexpr size_t first_partition_reply = 4;
  for (uint32_t p = 0; p < payment_partitions; ++p) {
    cmds.push_back({"XLEN", keys::payment_stream(p)});
    cmds.push_back({"XPENDING", keys::payment_stream(p), keys::payment_group});
  }
  auto conn = ctx.redis.acquire();
  auto replies = conn->pipeline(cmds);
  conn.reset();
  auto health = judge_probe(replies ? std::optional<redis::value>{replies->front()}
                                    : std::nullopt);
  // The reads, as query_all would give them: all or none.
  std::optional<std::vector<redis::value>> q;
  if (replies
      && std::none_of(replies->begin() + 1, replies->end(),
                      [](const redis::value& v) { return v.is_error(); })) {
    q.emplace(replies->begin() + 1, replies->end());
  }
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
  if (auto d = ctx.deliveries) {
    out << "# HELP psp_webhook_attempts_total Webhook tries this node "
           "recorded, by outcome (failed: an error status, a timeout, no "
           "connection).\n# TYPE psp_webhook_attempts_total counter\n"
        << "psp_webhook_attempts_total{outcome=\"delivered\"} "
        << d->delivered.load() << '\n'
        << "psp_webhook_attempts_total{outcome=\"failed\"} "
        << d->failed.load() << '\n';
    counter("psp_webhook_dead_lettered_total",
            "Webhook deliveries this node moved to the dead-letter stream.",
            d->dead_lettered.load());
  }
  if (auto n = ctx.network_calls) {
    out << "# HELP psp_card_network_calls_total Calls this node made to the "
           "card network, by operation and answer (a charge's answers are "
           "the payments' outcomes; failed: no final answer, an error "
           "status, a timeout or no connection, and the step tries again).\n"
           "# TYPE psp_card_network_calls_total counter\n";
    for (size_t op = 0; op < card::network_counters::ops; ++op) {
      for (size_t r = 0; r < card::network_counters::outcomes; ++r) {
        out << "psp_card_network_calls_total{op=\"" << card::counted_ops[op]
            << "\",outcome=\"" << card::counted_outcomes[r] << "\"} "
            << n->calls[op][r].load() << '\n';
      }
    }
    out << "# HELP psp_card_network_call_seconds Time the card network "
           "took to answer this node's calls.\n"
           "# TYPE psp_card_network_call_seconds summary\n"
        << "psp_card_network_call_seconds_sum "
        << static_cast<double>(n->call_us_total.load()) / 1e6 << '\n'
        << "psp_card_network_call_seconds_count " << n->total() << '\n';
    counter("psp_card_network_key_conflicts_total",
            "Calls whose idempotency key the card network holds for another "
            "request: an attempt Redis lost (decision 70). Alert on any.",
            n->key_conflicts.load());
  }
  if (redis_minus_steady_us.load() != 0) {
    // The node follows Redis's clock (decision 63): a Redis host whose clock
    // is wrong makes every webhook signature's time wrong with it.
    out << "# HELP psp_clock_offset_seconds This machine's clock minus "
           "Redis's, which the node stamps and judges time by (either may "
           "be the wrong one; merchants reject webhook signatures more than "
           "5 min off their own).\n# TYPE psp_clock_offset_seconds gauge\n"
        << "psp_clock_offset_seconds "
        << static_cast<double>(system_now_us() - unix_now_us()) / 1e6
        << '\n';
  }
  gauge("psp_redis_up", "1 if Redis answered this scrape.", q ? 1 : 0);
  gauge("psp_redis_state_lost",
        "1 once Redis no longer held what this node saw it acknowledge "
        "(emptied, replaced, rolled back, or back without durability): the "
        "node refuses requests until restarted (decision 62).",
        ctx.redis_state_lost() ? 1 : 0);
  if (ctx.cluster_state) {
    auto [members, quorum] = ctx.cluster_state();
    gauge("psp_cluster_members",
          "Members this node works with (registered and connected, itself "
          "included); -1 when its membership did not answer.",
          members ? static_cast<int64_t>(members->size()) : -1);
    gauge("psp_cluster_quorum",
          "1 while this node holds the quorum and takes payment work, 0 "
          "while it waits or is cut off in a minority; -1 unknown.",
          quorum ? (*quorum ? 1 : 0) : -1);
  }
  gauge("psp_continuity_mark_unwritable",
        "1 while the node cannot write <data-dir>/redis-continuity.mark: "
        "a restart could not tell a Redis that lost data since (decision "
        "67).",
        ctx.continuity_mark_unwritable ? 1 : 0);
  gauge("psp_redis_writable",
        "1 if Redis took this scrape's probe write (0: it refuses writes, "
        "out of memory or read-only, and no payment can commit).",
        health.writable ? 1 : 0);
  if (q && q->size() == cmds.size() - 1) {
    int64_t length = 0;
    int64_t pending = 0;
    std::optional<int64_t> oldest_pending_ms;
    for (size_t i = first_partition_reply; i + 1 < q->size(); i += 2) {
      length += (*q)[i].integer;
      auto& summary = (*q)[i + 1];
      if (summary.is_array() && !summary.elements.empty()) {
        pending += summary.elements[0].integer;
      }
      // XPENDING's summary: count, smallest id, greatest id, consumers; an
      // id starts with the milliseconds it was queued at.
      if (summary.is_array() && summary.elements.size() >= 2
          && summary.elements[0].integer > 0) {
        auto& id = summary.elements[1].text();
        if (auto ms = parse_integer(id.substr(0, id.find('-')))) {
          oldest_pending_ms = std::min(oldest_pending_ms.value_or(*ms), *ms);
        }
      }
    }
    gauge("psp_payment_oldest_pending_seconds",
          "Age of the oldest payment step a worker took and has not "
          "finished (0: none): it grows while the card network fails or "
          "stalls, and falls back once it answers.",
          oldest_pending_ms
            ? std::max<int64_t>(0, (unix_now_ms() - *oldest_pending_ms) / 1000)
            : 0);
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
          << (*q)[first_partition_reply + 2 * p].integer << '\n';
    }
    gauge("psp_webhook_deliveries_scheduled",
          "Webhook deliveries waiting for their next try.", (*q)[0].integer);
    gauge("psp_dead_letters", "Entries in the dead-letter stream.",
          (*q)[1].integer);
    gauge("psp_archive_due",
          "Finished payments queued for the archive (decision 38); it "
          "grows for archive-after-s after a payment, then drains.",
          (*q)[2].integer);
    gauge("psp_sessions_expiring",
          "Open checkout sessions the expiry sweep watches (decision 39).",
          (*q)[3].integer);
  }
  res.set_content(out.str(), "text/plain; version=0.0.4");
}

} // namespace

void add_operations_routes(httplib::Server& srv, api_context& ctx) {
  srv.Get("/healthz", [&ctx](const httplib::Request&, httplib::Response& res) {
    auto redis = probe_redis(ctx);
    bool draining = ctx.draining.load();
    auto lost = ctx.redis_state_lost();
    bool ok = redis.writable && !draining && !lost;
    json body{{"status", lost       ? "redis_state_lost"
                         : draining ? "draining"
                         : ok       ? "ok"
                                    : "degraded"},
              {"redis", lost             ? "state_lost"
                        : redis.writable ? "up"
                        : redis.up       ? "refusing_writes"
                                         : "down"}};
    if (lost) {
      body["redis_error"] = *lost; // what the continuity watch saw
    } else if (!redis.refusal.empty()) {
      body["redis_error"] = redis.refusal; // e.g. OOM command not allowed ...
    }
    if (ctx.cluster_state) {
      // The members this node works with (registered and connected),
      // itself included; what ownership and the quorum rule are computed on.
      // And the payment stream partitions that view gives this node (it
      // reads them while it has the quorum).
      // Without the quorum it reads none (the scale audit found all
      // twelve listed while the node took no payment work).
      auto [members, quorum] = ctx.cluster_state();
      json partitions = nullptr;
      json quorum_field = nullptr;
      if (quorum.has_value()) {
        quorum_field = quorum.value();
        if (members) {
          partitions = quorum.value()
                         ? json(owned_partitions(ctx.settings.node_id,
                                                 *members))
                         : json::array();
        }
      }
      body["cluster"] = json{
        {"members", members ? json(*members) : json(nullptr)},
        {"quorum", std::move(quorum_field)},
        {"partitions", std::move(partitions)}};
    }
    write_json(res, body.dump(), ok ? 200 : 503);
  });
  srv.Get("/metrics", [&ctx](const httplib::Request&, httplib::Response& res) {
    metrics(ctx, res);
  });
}

} // namespace psp::http
