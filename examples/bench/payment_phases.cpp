#include "payment_phases.hpp"

#include "bench_clock.hpp"
#include "payment_table.hpp"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

namespace bench {

namespace {

/// Runs `body(worker_index)` on `n` threads and joins them.
template <class Body>
void run_workers(int n, Body body) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&body, i] { body(i); });
  }
  for (auto& t : threads) {
    t.join();
  }
}

/// Errors: counted, and the first one kept for the report.
struct error_log {
  std::mutex mtx;
  uint64_t count = 0;
  std::string first;
  void add(const std::string& what) {
    std::lock_guard<std::mutex> guard{mtx};
    if (count++ == 0) {
      first = what;
    }
  }
};

} // namespace

client_set make_clients(const std::vector<std::string>& node_urls,
                        int threads) {
  client_set out;
  for (size_t w = 0; w < static_cast<size_t>(threads); ++w) {
    out.push_back(make_client(node_urls[w % node_urls.size()]));
  }
  return out;
}

uint64_t connect_all(client_set& clients) {
  std::atomic<uint64_t> failed{0};
  run_workers(static_cast<int>(clients.size()), [&](int w) {
    auto res = clients[static_cast<size_t>(w)]->Get("/healthz");
    if (!res || res->status != 200) {
      ++failed;
    }
  });
  return failed;
}

create_result run_create_phase(const phase_settings& cfg, client_set& all) {
  create_result out;
  std::atomic<uint64_t> next{0};
  error_log errors;
  std::mutex mtx;
  std::vector<int64_t> latencies;
  auto start_ns = mono_ns();
  auto end_ns = start_ns + static_cast<int64_t>(cfg.duration_s * 1e9);
  out.start_unix = unix_s();
  run_workers(static_cast<int>(all.size()), [&](int w) {
    auto& client = *all[static_cast<size_t>(w)];
    std::vector<session_ref> mine;
    std::vector<int64_t> my_latencies;
    while (mono_ns() < end_ns) {
      auto i = next++;
      if (i >= cfg.count_max) {
        break;
      }
      session_ref s;
      auto t0 = mono_ns();
      auto r = create_session(client, cfg.api_key,
                              cfg.run_id + "-cs-" + std::to_string(i), s);
      my_latencies.push_back(mono_ns() - t0);
      if (r.ok) {
        mine.push_back(std::move(s));
      } else {
        errors.add(r.error);
      }
    }
    std::lock_guard<std::mutex> guard{mtx};
    out.sessions.insert(out.sessions.end(), mine.begin(), mine.end());
    latencies.insert(latencies.end(), my_latencies.begin(), my_latencies.end());
  });
  out.elapsed_s = ns_to_s(mono_ns() - start_ns);
  out.end_unix = unix_s();
  out.errors = errors.count;
  out.first_error = errors.first;
  out.latency = summarize_ns(latencies);
  return out;
}

namespace {

/// Waits (bounded) until every confirmed payment has its webhook.
void drain(payment_table& table, uint64_t confirmed, int timeout_s) {
  auto deadline = mono_ns() + static_cast<int64_t>(timeout_s) * 1'000'000'000;
  while (table.completed() < confirmed && mono_ns() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
}

void collect_latencies(payment_table& table, size_t used,
                       std::vector<int64_t>& out) {
  for (size_t i = 0; i < used; ++i) {
    auto& slot = table.at(i);
    auto c = slot.confirm_ns.load();
    auto w = slot.webhook_ns.load();
    if (c > 0 && w > 0) {
      out.push_back(w - c);
    }
  }
}

} // namespace

pay_result run_pay_phase(const phase_settings& cfg, const pay_settings& pay,
                         const std::vector<session_ref>& sessions,
                         webhook_receiver& receiver, client_set& all) {
  pay_result out;
  slot_gate gate{pay.outstanding_max};
  auto table = std::make_shared<payment_table>(sessions, gate);
  receiver.track(table);
  auto limit = std::min<uint64_t>(cfg.count_max, sessions.size());
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> confirmed{0};
  std::atomic<uint64_t> stalls{0};
  std::atomic<int64_t> last_issue_ns{0};
  error_log errors;
  std::mutex mtx;
  std::vector<int64_t> http_latencies;
  auto start_ns = mono_ns();
  auto end_ns = start_ns + static_cast<int64_t>(cfg.duration_s * 1e9);
  auto stall_ns = static_cast<int64_t>(pay.stall_timeout_s) * 1'000'000'000;
  out.start_unix = unix_s();
  run_workers(static_cast<int>(all.size()), [&](int w) {
    auto& client = *all[static_cast<size_t>(w)];
    std::vector<int64_t> mine;
    while (mono_ns() < end_ns) {
      if (!gate.acquire(mono_ns() + stall_ns)) {
        ++stalls; // the PSP stopped completing payments
        break;
      }
      auto i = next++;
      if (i >= limit) {
        gate.release();
        break;
      }
      auto& s = sessions[i];
      auto& slot = table->at(i);
      auto t0 = mono_ns();
      slot.confirm_ns = t0;
      auto r = confirm_payment(client, s.session_id,
                               cfg.run_id + "-n-" + std::to_string(i));
      mine.push_back(mono_ns() - t0);
      last_issue_ns = t0;
      if (r.ok) {
        ++confirmed;
      } else {
        errors.add(r.error);
        table->abandon(slot);
      }
    }
    std::lock_guard<std::mutex> guard{mtx};
    http_latencies.insert(http_latencies.end(), mine.begin(), mine.end());
  });
  drain(*table, confirmed, pay.drain_timeout_s);
  receiver.track(nullptr);
  out.confirmed = confirmed;
  out.confirm_errors = errors.count;
  out.first_error = errors.first;
  out.completed = table->completed();
  out.missing = out.confirmed - std::min(out.confirmed, out.completed);
  out.stalls = stalls;
  out.issue_s = ns_to_s(std::max<int64_t>(0, last_issue_ns - start_ns));
  out.ran_out = next >= limit && last_issue_ns < end_ns - 1'000'000'000;
  auto last = std::max(table->last_webhook_ns(), start_ns);
  out.elapsed_s = ns_to_s(last - start_ns);
  out.per_s = out.elapsed_s > 0 ? out.completed / out.elapsed_s : 0;
  out.end_unix = unix_s();
  out.confirm_http = summarize_ns(http_latencies);
  std::vector<int64_t> to_webhook;
  collect_latencies(*table, std::min<size_t>(next, table->size()), to_webhook);
  out.to_webhook = summarize_ns(to_webhook);
  return out;
}

nlohmann::json to_json(const create_result& r) {
  auto created = static_cast<double>(r.sessions.size());
  return {{"created", r.sessions.size()},
          {"errors", r.errors},
          {"first_error", r.first_error},
          {"elapsed_s", r.elapsed_s},
          {"per_s", r.elapsed_s > 0 ? created / r.elapsed_s : 0},
          {"start_unix", r.start_unix},
          {"end_unix", r.end_unix},
          {"latency", to_json(r.latency)}};
}

nlohmann::json to_json(const pay_result& r) {
  return {{"confirmed", r.confirmed},
          {"confirm_errors", r.confirm_errors},
          {"completed", r.completed},
          {"missing", r.missing},
          {"stalls", r.stalls},
          {"first_error", r.first_error},
          {"issue_s", r.issue_s},
          {"ran_out", r.ran_out},
          {"elapsed_s", r.elapsed_s},
          {"per_s", r.per_s},
          {"start_unix", r.start_unix},
          {"end_unix", r.end_unix},
          {"confirm_http", to_json(r.confirm_http)},
          {"confirm_to_webhook", to_json(r.to_webhook)}};
}

} // namespace bench
