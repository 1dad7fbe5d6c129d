#include "report_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <sstream>

namespace bench {

namespace {

using json = nlohmann::json;

/// 12345.6 -> "12,346"
std::string grouped(double v) {
  auto n = static_cast<long long>(std::llround(v));
  auto digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) {
      out += ',';
    }
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

std::string fixed(double v, int decimals) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(decimals) << v;
  return s.str();
}

std::string ms(double v) {
  return fixed(v, v < 10 ? 2 : 1) + " ms";
}

std::string ratio_text(double r) {
  return fixed(r, 2) + "×";
}

/// The member at `path`, or null when any step is missing. Results files
/// of older or smoke runs lack members, and a const json's operator[] on a
/// missing key is undefined behaviour (it read freed memory in a test).
const json& member(const json& j, std::initializer_list<const char*> path) {
  static const json missing;
  const json* at = &j;
  for (auto* key : path) {
    if (!at->is_object()) {
      return missing;
    }
    auto found = at->find(key);
    if (found == at->end()) {
      return missing;
    }
    at = &*found;
  }
  return *at;
}

double num(const json& j, std::initializer_list<const char*> path) {
  auto& at = member(j, path);
  return at.is_number() ? at.get<double>() : 0;
}

struct row_sink {
  std::vector<report_row>& rows;
  bool smoke;
  void info(std::string m, std::string v, std::string f = "",
            std::string r = "") {
    rows.push_back({std::move(m), std::move(v), std::move(f), std::move(r),
                    "", std::nullopt});
  }
  void judged(std::string m, std::string v, std::string f, std::string r,
              std::string target, bool met) {
    std::optional<bool> verdict;
    if (!smoke) {
      verdict = met;
    }
    rows.push_back({std::move(m), std::move(v), std::move(f), std::move(r),
                    std::move(target), verdict});
  }
};

void floor_rows(const report_data& d, row_sink& out) {
  if (d.hello) {
    out.info("HTTP floor: cpp-httplib hello world (wrk)",
             grouped(d.hello->per_s) + " req/s, p50 " + ms(d.hello->p50_ms)
               + ", p99 " + ms(d.hello->p99_ms));
  }
  if (d.redis_set) {
    out.info("Redis floor: SET, AOF always, 50 clients",
             grouped(d.redis_set->per_s) + " ops/s, p50 "
               + ms(d.redis_set->p50_ms) + ", p99 " + ms(d.redis_set->p99_ms));
  }
  if (d.redis_set_pipelined) {
    out.info("Redis SET, AOF always, 50 clients, pipelined 16",
             grouped(d.redis_set_pipelined->per_s) + " ops/s");
  }
}

void checkout_rows(const report_data& d, row_sink& out, json& derived) {
  if (!d.checkout) {
    return;
  }
  auto& c = *d.checkout;
  auto floor = d.hello ? d.hello->per_s : 0;
  auto r = floor > 0 ? c.per_s / floor : 0;
  out.judged("create-checkout (1 node, Idempotency-Key each, durable)",
             grouped(c.per_s) + " req/s", grouped(floor) + " req/s",
             ratio_text(r), "≥ 0.6× floor", r >= 0.6);
  out.judged("create-checkout latency p99 (p50)",
             ms(c.p99_ms) + " (" + ms(c.p50_ms) + ")",
             d.hello ? ms(d.hello->p99_ms) : "", "", "≤ 10 ms",
             c.p99_ms <= 10);
  derived["create_checkout"] = {{"per_s", c.per_s},
                                {"ratio_to_http_floor", r},
                                {"p50_ms", c.p50_ms},
                                {"p99_ms", c.p99_ms},
                                {"errors", c.errors}};
  if (d.checkout_before && d.checkout_after && c.requests > 0) {
    auto delta = diff(*d.checkout_before, *d.checkout_after);
    auto n = static_cast<double>(c.requests);
    // Background polling of the node, as payment-bench measured it idle.
    double idle_reads = 0;
    double idle_cmds = 0;
    if (d.e2e_one) {
      idle_reads = num(*d.e2e_one, {"redis", "idle_reads_per_s"}) * c.duration_s;
      idle_cmds = num(*d.e2e_one, {"redis", "idle_commands_per_s"})
                  * c.duration_s;
    }
    auto rt = std::max(0.0, delta.reads - idle_reads) / n;
    auto cmds = std::max(0.0, delta.commands - idle_cmds) / n;
    std::string split;
    if (d.monitor_create && d.monitor_run) {
      auto m = std::max(1.0, num(*d.monitor_run, {"create", "created"}));
      split = " (MONITOR: " + fixed(d.monitor_create->top_level / m, 1)
              + " top-level + " + fixed(d.monitor_create->in_lua / m, 1)
              + " in Lua)";
    }
    out.info("Redis per create-checkout: round trips / commands incl. Lua",
             fixed(rt, 2) + " / " + fixed(cmds, 1) + split);
    derived["create_checkout"]["redis_round_trips"] = rt;
    derived["create_checkout"]["redis_commands"] = cmds;
  }
}

std::string latency_text(const json& e) {
  return ms(num(e, {"pay", "confirm_to_webhook", "p99_ms"})) + " ("
         + ms(num(e, {"pay", "confirm_to_webhook", "p50_ms"})) + ")";
}

struct archive_figures_t {
  double payments = 0;
  double per_s = 0;
  double memory_bytes_per_payment = 0; ///< negative: what it freed
  double admin_cpu_ms = 0;             ///< psp-admin's own, per payment
  double redis_cpu_ms = 0;
  double packed_bytes = 0;             ///< compressed bytes per payment
};

/// The archive pass of psp-admin over every paid charge of the run.
std::optional<archive_figures_t> archive_figures(const report_data& d) {
  if (!d.archive_run || !d.archive_before || !d.archive_after) {
    return std::nullopt;
  }
  auto& a = *d.archive_run;
  auto n = num(a, {"archived"});
  if (n <= 0) {
    return std::nullopt;
  }
  auto delta = diff(*d.archive_before, *d.archive_after);
  archive_figures_t f;
  f.payments = n;
  f.per_s = n / std::max(1e-9, num(a, {"elapsed_s"}));
  f.memory_bytes_per_payment
    = amortized_memory_per_item(delta, static_cast<uint64_t>(n));
  f.admin_cpu_ms = num(a, {"cpu_s"}) * 1000 / n;
  f.redis_cpu_ms = delta.cpu_s * 1000 / n;
  f.packed_bytes = num(a, {"packed_bytes"}) / n;
  return f;
}

/// Round trips, commands (split by MONITOR) and memory per payment.
void redis_rows(const report_data& d, const json& e, row_sink& out,
                json& derived) {
  auto rt = num(e, {"redis", "pay", "round_trips_per_item"});
  out.judged("Redis round trips per payment (confirm → webhook)",
             fixed(rt, 2), "", "", "≤ 3", rt <= 3.0);
  auto cmds = num(e, {"redis", "pay", "commands_per_item"});
  std::string cmd_text = fixed(cmds, 1) + " incl. Lua";
  if (d.monitor_pay && d.monitor_run) {
    auto n = std::max(1.0, num(*d.monitor_run, {"pay", "completed"}));
    cmd_text += " (MONITOR: " + fixed(d.monitor_pay->top_level / n, 1)
                + " top-level + " + fixed(d.monitor_pay->in_lua / n, 1)
                + " in Lua)";
    derived["monitor_per_payment"]
      = {{"top_level", d.monitor_pay->top_level / n},
         {"in_lua", d.monitor_pay->in_lua / n}};
  }
  out.info("Redis commands per payment", cmd_text);
  // The key tables' share amortized (redis_info.hpp): a raw delta holds a
  // table resize in some runs and not in others. Results of older runs
  // lack the amortized figure; the raw one stands in.
  auto per_item = [&](const char* phase) {
    auto amortized
      = num(e, {"redis", phase, "memory_bytes_per_item_amortized"});
    return amortized != 0 ? amortized
                          : num(e, {"redis", phase, "memory_bytes_per_item"});
  };
  auto mem_session = per_item("create");
  auto mem_pay = per_item("pay");
  auto mem = mem_session + mem_pay;
  auto raw = num(e, {"redis", "create", "memory_bytes_per_item"})
             + num(e, {"redis", "pay", "memory_bytes_per_item"});
  auto live_text = grouped(mem) + " B (" + grouped(mem_session) + " + "
                   + grouped(mem_pay) + "; raw delta " + grouped(raw) + " B)";
  // A paid charge is live for --psp.archive-after-s (ten minutes by default),
  // then packed for good: the archived figure is what it costs over time.
  auto archived = archive_figures(d);
  if (archived) {
    out.info("Redis memory per completed payment, live (its first minutes: "
             "session + payment; key tables amortized)",
             live_text);
    auto packed = mem + archived->memory_bytes_per_payment;
    out.judged("Redis memory per completed payment, archived (live figure "
               "+ what the archive pass freed per payment)",
               grouped(packed) + " B (" + grouped(mem) + " "
                 + grouped(archived->memory_bytes_per_payment) + ")",
               "", "", "≤ 2 KiB", packed <= 2048);
    derived["memory_bytes_per_payment_archived"] = packed;
  } else {
    out.judged("Redis memory per completed payment (session + payment; key "
               "tables amortized)",
               live_text, "", "", "≤ 2 KiB", mem <= 2048);
  }
  derived["memory_bytes_per_payment_raw"] = raw;
  derived["redis_round_trips_per_payment"] = rt;
  derived["redis_commands_per_payment"] = cmds;
  derived["memory_bytes_per_payment"] = mem;
  derived["memory_bytes_per_session"] = mem_session;
}

/// CPU per item by process, and the ceiling that puts on the rate.
void cpu_row(const report_data& d, const json& e, const char* phase,
             const char* what, double per_s, row_sink& out, json& into) {
  auto& c = member(e, {"cpu_ms_per_item", phase});
  if (!c.is_object()) {
    return;
  }
  auto total = num(c, {"total"});
  auto cores = std::max(1.0, d.cores);
  auto ceiling = total > 0 ? cores * 1000 / total : 0;
  out.info(std::string{"CPU per "} + what
             + ": node + Redis + card sim + bench driver",
           fixed(num(c, {"nodes"}), 2) + " (user "
             + fixed(num(c, {"nodes_user"}), 2) + ", kernel "
             + fixed(num(c, {"nodes_system"}), 2) + ") + "
             + fixed(num(c, {"redis"}), 2) + " + "
             + fixed(num(c, {"card_network"}), 2) + " + "
             + fixed(num(c, {"driver"}), 2) + " = " + fixed(total, 2) + " ms",
           ceiling > 0 ? grouped(ceiling) + " /s (" + fixed(cores, 0)
                           + " cores ÷ CPU)"
                       : "",
           ceiling > 0 ? ratio_text(per_s / ceiling) : "");
  into = c;
}

void cpu_rows(const report_data& d, const json& e, row_sink& out,
              json& derived) {
  if (auto& pay = member(e, {"cpu_ms_per_item", "pay"}); pay.is_object()) {
    out.info("machine CPU during the pay phase: busy / used by other "
             "processes",
             fixed(num(pay, {"machine_busy_fraction"}) * 100, 0) + " % / "
               + fixed(num(pay, {"others_fraction"}) * 100, 0) + " %");
  }
  cpu_row(d, e, "pay", "payment (confirm → webhook)", num(e, {"pay", "per_s"}),
          out, derived["cpu_ms_per_payment"]);
  cpu_row(d, e, "create", "checkout session (payment-bench)",
          num(e, {"create", "per_s"}), out, derived["cpu_ms_per_session"]);
}

/// The archive pass: its rate and CPU, and what it leaves of the 1-node
/// rate once every payment is also archived (minutes later).
void archive_rows(const report_data& d, const json& e, row_sink& out,
                  json& derived) {
  auto f = archive_figures(d);
  if (!f) {
    return;
  }
  out.info("archive pass (psp-admin archive after the phases): payments, "
           "rate; CPU per payment: psp-admin + Redis",
           grouped(f->payments) + " at " + grouped(f->per_s) + " /s; "
             + fixed(f->admin_cpu_ms, 3) + " + " + fixed(f->redis_cpu_ms, 3)
             + " ms; " + grouped(f->packed_bytes) + " B packed a payment");
  derived["archive"] = {{"payments", f->payments},
                        {"per_s", f->per_s},
                        {"memory_bytes_per_payment",
                         f->memory_bytes_per_payment},
                        {"admin_cpu_ms_per_payment", f->admin_cpu_ms},
                        {"redis_cpu_ms_per_payment", f->redis_cpu_ms},
                        {"packed_bytes_per_payment", f->packed_bytes}};
  auto pay_cpu = num(e, {"cpu_ms_per_item", "pay", "total"});
  if (pay_cpu > 0) {
    auto with = pay_cpu + f->admin_cpu_ms + f->redis_cpu_ms;
    auto ceiling = std::max(1.0, d.cores) * 1000 / with;
    out.info("CPU per payment with its archive (pay + pass), and the "
             "ceiling that puts on a sustained rate",
             fixed(with, 2) + " ms → " + grouped(ceiling) + " /s");
    derived["archive"]["sustained_ceiling_per_s"] = ceiling;
  }
}

void e2e_rows(const report_data& d, row_sink& out, json& derived) {
  if (!d.e2e_one) {
    return;
  }
  auto& e = *d.e2e_one;
  auto& mine = derived["e2e_one_node"];
  auto rate = num(e, {"pay", "per_s"});
  auto rt = num(e, {"redis", "pay", "round_trips_per_item"});
  auto redis_ceiling = d.redis_set && rt > 0 ? d.redis_set->per_s / rt : 0;
  out.judged("end-to-end payments/s (1 node, confirm → signed webhook)",
             grouped(rate) + " /s",
             redis_ceiling > 0 ? grouped(redis_ceiling) + " /s (Redis floor "
                                                          "÷ round trips)"
                               : "",
             redis_ceiling > 0 ? ratio_text(rate / redis_ceiling) : "",
             "≥ 2,000 /s", rate >= 2000);
  auto p99 = num(e, {"pay", "confirm_to_webhook", "p99_ms"});
  out.judged("confirm → webhook latency p99 (p50), 1 node", latency_text(e),
             "", "", "≤ 250 ms", p99 <= 250);
  if (d.e2e_light) {
    out.info("confirm → webhook latency p99 (p50), light load: 2 in flight",
             latency_text(*d.e2e_light));
    derived["e2e_light"] = member(*d.e2e_light, {"pay", "confirm_to_webhook"});
  }
  redis_rows(d, e, out, mine);
  cpu_rows(d, e, out, mine);
  archive_rows(d, e, out, mine);
  mine["per_s"] = rate;
  mine["p50_ms"] = num(e, {"pay", "confirm_to_webhook", "p50_ms"});
  mine["p99_ms"] = p99;
  mine["redis_ceiling_per_s"] = redis_ceiling;
}

/// A slow card network: what one node completes when each call takes
/// `slow_network_latency_ms`, against connections ÷ latency.
void slow_network_rows(const report_data& d, row_sink& out, json& derived) {
  if (!d.e2e_slow_network || d.slow_network_latency_ms <= 0) {
    return;
  }
  auto& e = *d.e2e_slow_network;
  auto rate = num(e, {"pay", "per_s"});
  auto ceiling = d.card_connections * 1000.0 / d.slow_network_latency_ms;
  auto latency = fixed(d.slow_network_latency_ms, 0) + " ms";
  out.info("end-to-end payments/s, card network answering in " + latency
             + " (1 node)",
           grouped(rate) + " /s",
           grouped(ceiling) + " /s (" + fixed(d.card_connections, 0)
             + " connections ÷ " + latency + ")",
           ceiling > 0 ? ratio_text(rate / ceiling) : "");
  out.info("confirm → webhook latency p99 (p50), card network answering in "
             + latency,
           latency_text(e));
  auto& mine = derived["e2e_slow_network"];
  mine["per_s"] = rate;
  mine["ceiling_per_s"] = ceiling;
  mine["confirm_to_webhook"] = member(e, {"pay", "confirm_to_webhook"});
}

std::string rss_text(const json& e, const char* which) {
  std::string out;
  auto& kib = member(e, {"rss_kib", which});
  if (!kib.is_array()) {
    return out;
  }
  for (auto& v : kib) {
    out += (out.empty() ? "" : " / ")
           + fixed(v.get<double>() / 1024.0, 1);
  }
  return out + " MiB";
}

/// Which of the nodes' threads spend a payment's CPU and wake-ups, one node
/// against three (summed): where co-location costs (docs/performance.md).
void thread_rows(const json& one, const json& three, row_sink& out) {
  static const json::json_pointer where{"/cpu_ms_per_item/pay/node_threads"};
  if (!one.contains(where) || !three.contains(where)) {
    return; // results of a payment-bench before the per-thread figures
  }
  auto& a = one.at(where);
  auto& b = three.at(where);
  if (!a.is_object() || !b.is_object() || a.empty()) {
    return;
  }
  std::vector<std::pair<double, std::string>> order;
  for (auto& [name, g] : a.items()) {
    order.emplace_back(-num(g, {"cpu_ms"}), name);
  }
  std::sort(order.begin(), order.end());
  auto cell = [](const json& g) {
    return fixed(num(g, {"cpu_ms"}), 2) + " ms, "
           + fixed(num(g, {"voluntary_switches"}), 1);
  };
  std::string text;
  for (size_t i = 0; i < order.size() && i < 8; ++i) {
    auto& name = order[i].second;
    auto three_cell = b.contains(name) ? cell(b.at(name)) : std::string{"–"};
    text += (i > 0 ? "; " : "") + name + " " + cell(a.at(name)) + " → "
            + three_cell;
  }
  out.info("node threads by name, per payment: CPU, wake-ups (voluntary "
           "switches); 1 node → 3 nodes summed",
           text);
}

void scale_rows(const report_data& d, row_sink& out, json& derived) {
  if (d.e2e_one) {
    out.info("node RSS at rest / peak under load (1 node)",
             rss_text(*d.e2e_one, "rest") + " → "
               + rss_text(*d.e2e_one, "load_peak"));
  }
  if (!d.e2e_three || !d.e2e_one) {
    return;
  }
  auto one = num(*d.e2e_one, {"pay", "per_s"});
  auto three = num(*d.e2e_three, {"pay", "per_s"});
  auto one_text = grouped(one) + " /s (1 node)";
  auto three_text = grouped(three) + " /s";
  // Two rounds, 1 3 3 1: the machine's speed drifts by 10-20 % within
  // minutes, and a steady drift cancels in the ratio of the sums.
  auto one_sum = one;
  auto three_sum = three;
  auto rounds = 1;
  if (d.e2e_one_b && d.e2e_three_b) {
    auto one_b = num(*d.e2e_one_b, {"pay", "per_s"});
    auto three_b = num(*d.e2e_three_b, {"pay", "per_s"});
    one_text = grouped((one + one_b) / 2) + " /s (1 node; rounds "
               + grouped(one) + ", " + grouped(one_b) + ")";
    three_text = grouped((three + three_b) / 2) + " /s (rounds "
                 + grouped(three) + ", " + grouped(three_b) + ")";
    derived["e2e_rounds"] = {{"one_node_per_s", {one, one_b}},
                             {"three_nodes_per_s", {three, three_b}}};
    one_sum += one_b;
    three_sum += three_b;
    rounds = 2;
  }
  auto r = one_sum > 0 ? three_sum / one_sum : 0;
  out.judged("3 nodes, one Redis: end-to-end payments/s",
             three_text, one_text, ratio_text(r), "≥ 0.8× one node",
             r >= 0.8);
  auto p99 = num(*d.e2e_three, {"pay", "confirm_to_webhook", "p99_ms"});
  auto p50 = num(*d.e2e_three, {"pay", "confirm_to_webhook", "p50_ms"});
  out.info("confirm → webhook latency p99 (p50), 3 nodes",
           ms(p99) + " (" + ms(p50) + ")");
  // CPU per payment says what co-location costs with less noise than the
  // rates (the machine's speed drifts between the phases); first round.
  json three_cpu;
  cpu_row(d, *d.e2e_three, "pay", "payment, 3 nodes (all three summed)",
          three, out, three_cpu);
  // Three processes sharing the cores wake each other more often per
  // payment than one does: the co-location cost, in one figure.
  auto switches = [](const json& e) {
    return num(e, {"cpu_ms_per_item", "pay", "machine_context_switches"});
  };
  out.info("context switches per payment, whole machine: 1 node / 3 nodes",
           fixed(switches(*d.e2e_one), 0) + " / "
             + fixed(switches(*d.e2e_three), 0));
  thread_rows(*d.e2e_one, *d.e2e_three, out);
  out.info("node RSS at rest / peak under load (3 nodes, each)",
           rss_text(*d.e2e_three, "rest") + " → "
             + rss_text(*d.e2e_three, "load_peak"));
  derived["e2e_three_nodes"] = {{"per_s", three_sum / rounds},
                                {"ratio_to_one_node", r},
                                {"p50_ms", p50},
                                {"p99_ms", p99},
                                {"cpu_ms_per_payment", three_cpu}};
}

} // namespace

std::vector<report_row> build_rows(const report_data& d, json& derived) {
  std::vector<report_row> rows;
  row_sink out{rows, d.smoke};
  floor_rows(d, out);
  checkout_rows(d, out, derived);
  e2e_rows(d, out, derived);
  slow_network_rows(d, out, derived);
  scale_rows(d, out, derived);
  return rows;
}

void print_table(std::ostream& out, const std::vector<report_row>& rows) {
  out << "| measure | value | floor | ratio | target |\n"
      << "| --- | --- | --- | --- | --- |\n";
  for (auto& r : rows) {
    std::string target = r.target;
    if (!target.empty()) {
      target += !r.met ? " (not judged)" : *r.met ? " ✅ met" : " ❌ missed";
    }
    out << "| " << r.measure << " | " << r.value << " | " << r.floor << " | "
        << r.ratio << " | " << target << " |\n";
  }
}

json rows_json(const std::vector<report_row>& rows) {
  auto out = json::array();
  for (auto& r : rows) {
    json row{{"measure", r.measure}, {"value", r.value}, {"floor", r.floor},
             {"ratio", r.ratio},     {"target", r.target}};
    row["met"] = r.met ? json(*r.met) : json(nullptr);
    out.push_back(row);
  }
  return out;
}

} // namespace bench
