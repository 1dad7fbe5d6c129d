#include "runtime/admin_reports.hpp"

#include "actors/clock.hpp"
#include "runtime/ledger_check.hpp"
#include "runtime/recon_runner.hpp"
#include "runtime/statement_render.hpp"
#include "runtime/statement_source.hpp"

#include <iostream>

namespace psp::admin {

namespace {

std::string opt(const std::map<std::string, std::string>& opts,
                const std::string& key) {
  auto it = opts.find(key);
  return it == opts.end() ? std::string{} : it->second;
}

/// A non-negative integer flag; nullopt when absent; false in `ok` when bad.
std::optional<int64_t> seconds(const std::map<std::string, std::string>& opts,
                               const std::string& key, bool& ok) {
  auto text = opt(opts, key);
  if (text.empty()) {
    return std::nullopt;
  }
  auto value = ledger::parse_balance(text);
  if (!value || *value < 0) {
    ok = false;
    return std::nullopt;
  }
  return value;
}

int usage_error(const std::string& why) {
  std::cerr << "psp-admin: " << why << '\n';
  return exit_usage;
}

int failure_exit(const report_failure& f) {
  std::cerr << "psp-admin: " << f.message << '\n';
  switch (f.what) {
    case report_failure::kind::redis:
    case report_failure::kind::card_network:
      return exit_unreachable;
    case report_failure::kind::not_found:
      return exit_usage;
    case report_failure::kind::lease_lost:
    case report_failure::kind::too_large:
      break;
  }
  return exit_differences;
}

} // namespace

int reconcile_command(redis::connection& conn,
                      const std::map<std::string, std::string>& opts) {
  bool ok = true;
  auto from = seconds(opts, "--from", ok);
  auto to = seconds(opts, "--to", ok);
  auto grace = seconds(opts, "--grace-s", ok);
  auto url = opt(opts, "--card-network-url");
  if (!ok || from.has_value() != to.has_value()
      || (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)) {
    return usage_error("reconcile needs --card-network-url http://... and "
                       "both or neither of --from/--to (Unix seconds)");
  }
  recon::period p;
  if (from) {
    p = {*from, *to};
  } else {
    // The previous complete hour, as the default schedule would.
    auto hour_s = unix_now_s() / 3600 * 3600;
    p = {hour_s - 3600, hour_s};
  }
  if (!recon::valid_period(p)) {
    return usage_error("--from must be before --to, at most 367 days apart");
  }
  recon::run_settings cfg;
  cfg.network.base_url = url;
  cfg.grace_s = grace.value_or(recon::default_grace_s);
  cfg.trigger = "cli";
  cfg.node = "psp-admin";
  auto run = recon::run_reconciliation(conn, cfg, p);
  if (auto* f = std::get_if<report_failure>(&run)) {
    return failure_exit(*f);
  }
  auto& r = std::get<recon::recon_run>(run);
  std::cout << recon::to_json(r).dump(2) << std::endl;
  return r.result.clean() ? 0 : exit_differences;
}

int statement_command(redis::connection& conn,
                      const std::map<std::string, std::string>& opts) {
  bool ok = true;
  auto from = seconds(opts, "--from", ok);
  auto to = seconds(opts, "--to", ok);
  auto merchant = opt(opts, "--merchant");
  auto format = statement::parse_format(
    opt(opts, "--format").empty() ? "json" : opt(opts, "--format"));
  if (!ok || !from || !to || merchant.empty() || !format) {
    return usage_error("statement needs --merchant ID --from S --to S "
                       "[--format json|csv|html]");
  }
  recon::period p{*from, *to};
  if (!recon::valid_period(p)) {
    return usage_error("--from must be before --to, at most 367 days apart");
  }
  auto s = statement::load_statement(conn, merchant, p, unix_now_s());
  if (auto* f = std::get_if<report_failure>(&s)) {
    return failure_exit(*f);
  }
  auto& st = std::get<statement::merchant_statement>(s);
  std::cout << statement::render(st, *format) << std::flush;
  if (!st.consistent()) {
    std::cerr << "psp-admin: the closing balance differs from the ledger's "
                 "balance at the end of the period\n";
    return exit_differences;
  }
  return 0;
}

} // namespace psp::admin
