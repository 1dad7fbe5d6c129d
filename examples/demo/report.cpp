#include "report.hpp"

#include "demo_http.hpp"
#include "store_orders.hpp"

#include <algorithm>
#include <iomanip>
#include <ostream>

namespace demo {

namespace {

std::string or_unknown(const std::string& s) {
  return s.empty() ? "?" : s;
}

std::string final_status(const checkout_result& r) {
  if (r.paid) {
    return "paid";
  }
  return r.attempts.empty() ? "error" : r.attempts.back().outcome;
}

std::string webhook_count(const checkout_result& r) {
  auto expected = expected_webhooks(r).size();
  auto received = expected - missing_webhooks(r).size();
  return std::to_string(received) + "/" + std::to_string(expected);
}

std::string latency_text(const checkout_result& r) {
  return r.paid_latency_ms < 0 ? "-" : std::to_string(r.paid_latency_ms);
}

struct row {
  std::string cells[8];
};

// Column widths: each at least as wide as its header.
constexpr int widths[8] = {3, 8, 16, 26, 7, 7, 8, 7};

void print_row(std::ostream& out, const row& r) {
  for (int i = 0; i < 7; ++i) {
    out << std::left << std::setw(widths[i]) << r.cells[i] << "  ";
  }
  out << r.cells[7] << "\n"; // the last column is not padded
}

} // namespace

void print_attempt(std::ostream& out, const checkout_result& r,
                   const attempt_result& a) {
  out << "  checkout " << (r.index + 1) << "  " << or_unknown(r.order_id)
      << "  " << shorten_id(r.session_id) << "  card ..." << a.last4 << "  "
      << a.outcome;
  if (!a.detail.empty()) {
    out << " (" << a.detail << ")";
  }
  out << "  " << a.elapsed_ms << " ms\n";
}

std::string attempts_summary(const checkout_result& r) {
  std::string text;
  for (const auto& a : r.attempts) {
    text += (text.empty() ? "" : ", ") + a.last4 + " " + a.outcome;
  }
  return text.empty() ? "-" : text;
}

void print_table(std::ostream& out, const std::vector<checkout_result>& all) {
  print_row(out, {{"#", "order", "session", "attempts (last4 outcome)",
                   "final", "store", "webhooks", "paid ms"}});
  for (const auto& r : all) {
    print_row(out, {{std::to_string(r.index + 1), or_unknown(r.order_id),
                     shorten_id(r.session_id), attempts_summary(r),
                     final_status(r), or_unknown(r.store_status),
                     webhook_count(r), latency_text(r)}});
  }
  out << "(paid ms: card submitted -> hosted page reports paid; webhooks: "
         "received/expected at the store)\n";
}

void print_totals(std::ostream& out, const std::vector<checkout_result>& all) {
  size_t paid = 0, store_paid = 0, attempts = 0, declines = 0;
  size_t hooks_expected = 0, hooks_received = 0;
  std::vector<int64_t> latencies;
  for (const auto& r : all) {
    paid += r.paid ? 1 : 0;
    store_paid += r.store_status == "paid" ? 1 : 0;
    attempts += r.attempts.size();
    declines += std::count_if(r.attempts.begin(), r.attempts.end(),
                              [](auto& a) { return a.outcome == "declined"; });
    hooks_expected += expected_webhooks(r).size();
    hooks_received += expected_webhooks(r).size() - missing_webhooks(r).size();
    if (r.paid_latency_ms >= 0) {
      latencies.push_back(r.paid_latency_ms);
    }
  }
  out << "totals: " << all.size() << " checkouts, " << paid
      << " paid at the PSP, " << store_paid << " paid at the store, "
      << attempts << " card attempts (" << declines << " declined), webhooks "
      << hooks_received << "/" << hooks_expected << "\n";
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    int64_t sum = 0;
    for (auto ms : latencies) {
      sum += ms;
    }
    out << "latency submit->paid: min " << latencies.front() << " ms, avg "
        << sum / static_cast<int64_t>(latencies.size()) << " ms, max "
        << latencies.back() << " ms\n";
  }
}

size_t print_missing(std::ostream& out,
                     const std::vector<checkout_result>& all) {
  size_t problems = 0;
  for (const auto& r : all) {
    if (settled(r)) {
      continue;
    }
    if (problems++ == 0) {
      out << "missing:\n";
    }
    out << "  checkout " << (r.index + 1) << " (" << or_unknown(r.order_id)
        << "): ";
    if (!r.error.empty()) {
      out << r.error << "\n";
    } else if (!r.paid && r.attempts.empty()) {
      out << "no card attempt was made\n";
    } else if (!r.paid) {
      const auto& a = r.attempts.back();
      out << "not paid; last attempt " << a.outcome
          << (a.detail.empty() ? "" : " (" + a.detail + ")") << "\n";
    } else if (r.store_status != "paid") {
      out << "paid at the PSP but the store shows '"
          << or_unknown(r.store_status) << "'\n";
    } else {
      out << "webhooks missing:";
      for (const auto& type : missing_webhooks(r)) {
        out << " " << type;
      }
      out << "\n";
    }
  }
  return problems;
}

} // namespace demo
