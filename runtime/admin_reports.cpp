#include "runtime/admin_reports.hpp"

#include "actors/clock.hpp"
#include "runtime/admin_flags.hpp"
#include "runtime/recon_runner.hpp"
#include "runtime/recon_store.hpp"
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
    case report_failure::kind::conflict:
      break;
  }
  return exit_differences;
}

/// The same bound as the node's --psp.reconcile-grace-s.
constexpr int64_t grace_s_max = 86'400;

/// A flag's value within `rule`: nullopt when the flag is absent; the
/// message (naming the flag) when it is malformed or out of range.
using flag_value = std::variant<std::optional<int64_t>, std::string>;

flag_value optional_number(const std::map<std::string, std::string>& opts,
                           const std::string& flag, const number_rule& rule) {
  auto it = opts.find(flag);
  if (it == opts.end()) {
    return std::optional<int64_t>{};
  }
  auto n = whole_number(flag, it->second, rule);
  if (auto* why = std::get_if<std::string>(&n)) {
    return *why;
  }
  return std::optional<int64_t>{std::get<int64_t>(n)};
}

constexpr number_rule unix_time{0, unix_time_s_max,
                                "a Unix time in whole seconds"};

/// --from and --to, each checked; both nullopt when neither is given; the
/// message of the first that is wrong otherwise. `both_required` for a
/// command without a default period.
std::variant<std::optional<recon::period>, std::string>
period_flags(const std::map<std::string, std::string>& opts,
             const std::string& command, bool both_required) {
  auto from = optional_number(opts, "--from", unix_time);
  auto to = optional_number(opts, "--to", unix_time);
  for (auto* v : {&from, &to}) {
    if (auto* why = std::get_if<std::string>(v)) {
      return *why;
    }
  }
  auto from_s = std::get<std::optional<int64_t>>(from);
  auto to_s = std::get<std::optional<int64_t>>(to);
  if (!from_s && !to_s && !both_required) {
    return std::optional<recon::period>{};
  }
  if (!from_s || !to_s) {
    return command + " needs both --from S and --to S (Unix seconds, the "
           + "period [from, to))"
           + (both_required ? "" : ", or neither for the previous hour");
  }
  recon::period p{*from_s, *to_s};
  if (p.to_s <= p.from_s) {
    return "--to (" + std::to_string(p.to_s) + ") must be after --from ("
           + std::to_string(p.from_s) + ")";
  }
  if (!recon::valid_period(p)) {
    return "--from and --to may be at most "
           + std::to_string(recon::period_length_s_max / 86'400)
           + " days apart; they are "
           + std::to_string((p.to_s - p.from_s) / 86'400) + " days apart";
  }
  return std::optional<recon::period>{p};
}

} // namespace

int reconcile_command(redis::connection& conn,
                      const std::map<std::string, std::string>& opts) {
  auto url = opt(opts, "--card-network-url");
  if (url.empty()) {
    return usage_error("reconcile needs --card-network-url URL (the card "
                       "network's base URL, e.g. http://127.0.0.1:4010)");
  }
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return usage_error("--card-network-url must start with http:// or "
                       "https://, not '" + url + "'");
  }
  auto grace = optional_number(opts, "--grace-s",
                               {0, grace_s_max, "a whole number of seconds"});
  if (auto* why = std::get_if<std::string>(&grace)) {
    return usage_error(*why);
  }
  auto given = period_flags(opts, "reconcile", false);
  if (auto* why = std::get_if<std::string>(&given)) {
    return usage_error(*why);
  }
  recon::period p;
  if (auto& chosen = std::get<std::optional<recon::period>>(given)) {
    p = *chosen;
    if (auto why = recon::unended_period(p, unix_now_s(),
                                         "a reconciliation", "--to")) {
      return usage_error(*why);
    }
  } else {
    // The previous complete hour, as the default schedule would.
    auto hour_s = unix_now_s() / 3600 * 3600;
    p = {hour_s - 3600, hour_s};
  }
  recon::run_settings cfg;
  cfg.network.base_url = url;
  cfg.grace_s = std::get<std::optional<int64_t>>(grace).value_or(
    recon::default_grace_s);
  cfg.trigger = "cli";
  cfg.node = "psp-admin";
  auto run = recon::run_reconciliation(conn, cfg, p);
  if (auto* f = std::get_if<report_failure>(&run)) {
    return failure_exit(*f);
  }
  auto report = recon::to_json(std::get<recon::recon_run>(run));
  if (auto failed = recon::add_resolutions(conn, report)) {
    return failure_exit(*failed);
  }
  std::cout << report.dump(2) << std::endl;
  // Differences an operator resolved before are known: not a failure.
  return report.value("unresolved", size_t{0}) == 0 ? 0 : exit_differences;
}

int statement_command(redis::connection& conn,
                      const std::map<std::string, std::string>& opts) {
  auto merchant = opt(opts, "--merchant");
  if (merchant.empty()) {
    return usage_error("statement needs --merchant ID (acct_...)");
  }
  auto format_text = opts.count("--format") ? opt(opts, "--format") : "json";
  auto format = statement::parse_format(format_text);
  if (!format) {
    return usage_error("--format must be json, csv or html, not '"
                       + format_text + "'");
  }
  auto given = period_flags(opts, "statement", true);
  if (auto* why = std::get_if<std::string>(&given)) {
    return usage_error(*why);
  }
  auto p = *std::get<std::optional<recon::period>>(given);
  auto now_s = unix_now_s();
  if (auto why = recon::unended_period(p, now_s, "a statement", "--to")) {
    return usage_error(*why);
  }
  auto s = statement::load_statement(conn, merchant, p, now_s);
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
