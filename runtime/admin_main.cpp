// psp-admin: operator commands against a PSP's Redis. Every flag is
// `--flag value` or `--flag=value` (runtime/admin_flags.hpp).
//   psp-admin --redis HOST:PORT create-merchant --name NAME
//             [--fee-bps 290] [--fee-fixed-minor 30]
// (fees: 0-10000 bps, i.e. at most 100 %, and 0-10000 minor units)
// prints {"merchant": "acct_...", "secret_key": "sk_test_..."}; the key is
// shown once and stored only as its SHA-256.
//   psp-admin --redis HOST:PORT verify-ledger
// checks that every ledger transaction balances, that no transaction id
// appears twice and that ledger:balances equals the balances recomputed from
// ledger:transactions; prints a short report.
// It also checks that each merchant:<id>:balances hash equals that
// merchant's accounts recomputed from the stream.
//   psp-admin --redis HOST:PORT reconcile --card-network-url URL
//             [--from S --to S] [--grace-s 300]
//   psp-admin --redis HOST:PORT statement --merchant ID --from S --to S
//             [--format json|csv|html]
// (runtime/admin_reports.hpp: reconciliation report / merchant statement;
// reconcile exits 1 when it finds differences.)
//   psp-admin --redis HOST:PORT archive [--after-s 600]
// packs the paid charges, refunds, finished ops and expired sessions that
// finished at least that long ago into the compressed archive now
// (runtime/admin_archive.hpp).
//   psp-admin --redis HOST:PORT backfill-expiry
// puts the open sessions of a Redis written before the expiry sweep
// (decision 39) into its set; prints {"seen": N, "added": M}.
//   psp-admin --redis HOST:PORT roll-key --merchant ID [--expire-old-s N]
// gives the merchant a new secret key; the old one ends now or after N s
// (runtime/admin_keys.hpp).
//   psp-admin --redis HOST:PORT set-fees --merchant ID [--fee-bps N]
//             [--fee-fixed-minor N]
// changes a merchant's fees for payments created from then on (a payment
// keeps the fees of its creation); prints the merchant's fees.
// Exit codes: 0 done (ledger consistent), 1 ledger inconsistent, 2 usage,
// 3 Redis unreachable or not answering.

#include "actors/clock.hpp"
#include "adapters/crypto/api_key.hpp"
#include "adapters/crypto/random_id.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/redis_connection.hpp"
#include "adapters/redis/session_expiry.hpp"
#include "runtime/admin_archive.hpp"
#include "runtime/admin_flags.hpp"
#include "runtime/admin_keys.hpp"
#include "runtime/admin_members.hpp"
#include "runtime/admin_recovery.hpp"
#include "runtime/admin_reports.hpp"
#include "runtime/ledger_check.hpp"
#include "runtime/merchant_balance_check.hpp"
#include "runtime/recon_store.hpp"

#include <nlohmann/json.hpp>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace {

using psp::redis::value;

constexpr int exit_inconsistent = 1;
constexpr int exit_usage = 2;
constexpr int exit_unreachable = 3;

/// Who runs this: the login behind sudo, else the user (from the
/// environment, else the account of the process: a non-login shell, cron
/// or a container sets no USER, and the operator audit's events said
/// "unknown"); and where.
std::string operator_identity() {
  std::string who;
  for (const char* name : {"SUDO_USER", "USER", "LOGNAME"}) {
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') {
      who = v;
      break;
    }
  }
  if (who.empty()) {
    const passwd* account = ::getpwuid(::geteuid());
    who = account != nullptr && account->pw_name != nullptr
            ? account->pw_name
            : "uid " + std::to_string(::geteuid());
  }
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) == 0 && host[0] != '\0') {
    who += "@" + std::string{host};
  }
  return who;
}

/// A change an operator made, kept as an operator event (`admin.<command>`,
/// GET /admin/events) with who ran it, when and its flags: the card data
/// audit found key rolls and fee changes left no trace (PCI DSS 10.2.2).
/// `code` is the command's exit code, passed through.
int audited(psp::redis::connection& conn, const std::string& command,
            const std::map<std::string, std::string>& opts, int code) {
  if (code != 0) {
    return code;
  }
  nlohmann::json flags = nlohmann::json::object();
  for (auto& [flag, value] : opts) {
    if (flag != "--redis") {
      flags[flag.substr(2)] = value;
    }
  }
  std::string type = "admin." + command;
  std::replace(type.begin(), type.end(), '-', '_');
  if (!psp::recon::store_operator_event(
        conn, type, {{"by", operator_identity()}, {"flags", flags}})) {
    std::cerr << "psp-admin: done, but its audit event was not stored: "
              << conn.last_error() << '\n';
  }
  return code;
}

/// Socket timeout of every Redis command.
constexpr uint32_t redis_timeout_ms = 2'000;

/// Stream entries read per XRANGE.
constexpr size_t ledger_batch_max = 1'000;

void print_usage(std::ostream& out) {
  out << "usage: psp-admin [--redis HOST:PORT] create-merchant --name NAME"
         " [--fee-bps N] [--fee-fixed-minor N]\n"
         "       psp-admin [--redis HOST:PORT] verify-ledger\n"
         "       psp-admin [--redis HOST:PORT] reconcile"
         " --card-network-url URL [--from S --to S] [--grace-s N]\n"
         "       psp-admin [--redis HOST:PORT] statement --merchant ID"
         " --from S --to S [--format json|csv|html]\n"
         "       psp-admin [--redis HOST:PORT] archive [--after-s N]\n"
         "       psp-admin [--redis HOST:PORT] backfill-expiry\n"
         "       psp-admin [--redis HOST:PORT] roll-key --merchant ID"
         " [--expire-old-s N]\n"
         "       psp-admin [--redis HOST:PORT] set-fees --merchant ID"
         " [--fee-bps N] [--fee-fixed-minor N]\n"
         "       psp-admin [--redis HOST:PORT] end-reopened-sessions"
         " --run RECON_ID\n"
         "       psp-admin [--redis HOST:PORT] accept-redis-state"
         " --reason TEXT\n"
         "       psp-admin [--redis HOST:PORT] members\n"
         "       psp-admin [--redis HOST:PORT] forget-node --node ID\n"
         "Each flag is --flag VALUE or --flag=VALUE. --fee-bps 0-10000 (at"
         " most 100 %), --fee-fixed-minor 0-10000;\n"
         "S is a Unix time in seconds; a statement's --to may not be in the"
         " future.\n"
         "--redis defaults to 127.0.0.1:6379 (./run.sh's Redis is in"
         " <run dir>/redis_addr). A Redis that asks for a password:\n"
         "env PSP_REDIS_PASSWORD (and PSP_REDIS_USER for an ACL user).\n";
}

/// What was wrong, then the usage; exit status 2.
int usage(const std::string& reason = {}) {
  if (!reason.empty()) {
    std::cerr << "psp-admin: " << reason << "\n";
  }
  print_usage(std::cerr);
  return exit_usage;
}

/// Fees above 100 % would take more than the payment (the fee is capped at
/// the amount, so the merchant would get nothing).
constexpr int64_t fee_bps_max = 10'000;
/// A fixed fee is in minor units of whatever currency a payment is in: at
/// most 100.00 USD or 10,000 JPY a payment; more is a typo, and would take
/// whole payments.
constexpr int64_t fee_fixed_minor_max = 10'000;

/// Checks the fee flags that are given and writes each back as the number
/// it is ("05" as 5); the usage message of the first bad one.
std::optional<std::string>
normalize_fee_flags(std::map<std::string, std::string>& opts) {
  using psp::admin::number_rule;
  for (auto [flag, rule] :
       {std::pair{"--fee-bps",
                  number_rule{0, fee_bps_max,
                              "a whole number of basis points (100 = 1 %)"}},
        std::pair{"--fee-fixed-minor",
                  number_rule{0, fee_fixed_minor_max,
                              "a whole number of minor units (cents)"}}}) {
    auto given = opts.find(flag);
    if (given == opts.end()) {
      continue;
    }
    auto fee = psp::admin::whole_number(flag, given->second, rule);
    if (auto* why = std::get_if<std::string>(&fee)) {
      return *why;
    }
    given->second = std::to_string(std::get<int64_t>(fee));
  }
  return std::nullopt;
}

int create_merchant(psp::redis::connection& conn,
                    std::map<std::string, std::string>& opts) {
  if (opts["--name"].empty()) {
    return usage("create-merchant needs --name NAME");
  }
  if (auto why = normalize_fee_flags(opts)) {
    return usage(*why);
  }
  auto id = psp::crypto::new_id("acct_");
  auto key = psp::crypto::new_secret_key();
  auto hash = psp::crypto::api_key_hash(key);
  auto res = conn.pipeline(
    {{"MULTI"},
     {"HSET", psp::keys::merchant(id), "id", id, "name", opts["--name"],
      "fee_bps", opts["--fee-bps"], "fee_fixed_minor",
      opts["--fee-fixed-minor"], "key_hash", hash, "created",
      std::to_string(psp::unix_now_s())},
     {"SET", psp::keys::api_key(hash), id},
     {"SADD", psp::keys::merchants, id},
     {"EXEC"}});
  if (!res || !res->back().is_array()) {
    std::cerr << "psp-admin: cannot write to Redis at " << opts["--redis"]
              << ": " << conn.last_error() << '\n';
    return exit_unreachable;
  }
  std::cout << "{\"merchant\": \"" << id << "\", \"secret_key\": \"" << key
            << "\"}" << std::endl;
  return 0;
}

// -- verify-ledger ------------------------------------------------------------

/// Why reading the ledger stopped: the exit code and a message.
struct read_failure {
  int exit_code = exit_unreachable;
  std::string message;
};

/// An error reply: a key of the wrong type is a broken ledger, anything else
/// (LOADING, NOAUTH, ...) means Redis cannot answer now.
read_failure reply_failure(const value& reply, const std::string& what) {
  // Also inside a script's error ("... WRONGTYPE Operation against ...").
  bool wrong_type = reply.str.find("WRONGTYPE") != std::string::npos;
  return {wrong_type ? exit_inconsistent : exit_unreachable,
          what + ": " + reply.str};
}

/// A stream entry `[id, [field, value, ...]]` as a transaction.
psp::ledger::ledger_transaction to_transaction(const value& entry) {
  if (!entry.is_array() || entry.elements.size() != 2
      || !entry.elements[1].is_array()) {
    psp::ledger::ledger_transaction t;
    t.entry_id = entry.elements.empty() ? "?" : entry.elements[0].text();
    t.malformed = "not a stream entry";
    return t;
  }
  std::map<std::string, std::string> fields;
  auto& kv = entry.elements[1].elements;
  for (size_t i = 0; i + 1 < kv.size(); i += 2) {
    fields[kv[i].text()] = kv[i + 1].text();
  }
  return psp::ledger::parse_transaction(entry.elements[0].text(), fields);
}

// KEYS: ledger:balances, the ledger stream, then each merchant's balance
// mirror. Answers {balances, the last entry (XREVRANGE COUNT 1), mirror...}.
// A read-only script, not MULTI: Redis 7 refuses every command queued in a
// MULTI while it is out of memory, reads included, and this check is what
// an operator runs during such an incident.
const char* ledger_snapshot_lua = R"lua(
local out = {redis.call('HGETALL', KEYS[1]),
             redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)}
for i = 3, #KEYS do out[#out + 1] = redis.call('HGETALL', KEYS[i]) end
return out
)lua";

/// One consistent snapshot: ledger:balances and the id of the last ledger
/// entry, read in one script. A payment commit writes its entry and its
/// balance changes in one Lua script, so the balances match exactly the
/// entries up to that id, even while payments keep committing.
/// The same script reads the mirror hash of each of `merchants` into
/// `merchant_hashes`.
std::variant<std::pair<psp::ledger::stored_balances, std::string>, read_failure>
read_snapshot(psp::redis::connection& conn,
              const std::vector<std::string>& merchants,
              psp::ledger::merchant_balance_hashes& merchant_hashes) {
  std::vector<std::string> command{
    "EVAL", ledger_snapshot_lua, std::to_string(2 + merchants.size()),
    psp::keys::balances, psp::keys::ledger_stream};
  for (auto& m : merchants) {
    command.push_back(psp::keys::merchant_balances(m));
  }
  auto res = conn.run(command);
  if (!res) {
    return read_failure{exit_unreachable, conn.last_error()};
  }
  auto& exec = *res;
  if (!exec.is_array() || exec.elements.size() != 2 + merchants.size()) {
    return reply_failure(exec, "the ledger snapshot");
  }
  for (size_t i = 0; i < merchants.size(); ++i) {
    auto& mirror = exec.elements[2 + i];
    auto& stored = merchant_hashes[merchants[i]];
    for (size_t k = 0; k + 1 < mirror.elements.size(); k += 2) {
      stored[mirror.elements[k].text()]
        = psp::ledger::parse_balance(mirror.elements[k + 1].text());
    }
  }
  auto& hash = exec.elements[0];
  auto& last = exec.elements[1];
  psp::ledger::stored_balances balances;
  for (size_t i = 0; i + 1 < hash.elements.size(); i += 2) {
    balances[hash.elements[i].text()]
      = psp::ledger::parse_balance(hash.elements[i + 1].text());
  }
  std::string last_id;
  if (!last.elements.empty() && !last.elements[0].elements.empty()) {
    last_id = last.elements[0].elements[0].text();
  }
  return std::make_pair(std::move(balances), std::move(last_id));
}

/// Every ledger entry up to `last_id`, in batches of ledger_batch_max.
std::variant<std::vector<psp::ledger::ledger_transaction>, read_failure>
read_transactions(psp::redis::connection& conn, const std::string& last_id) {
  std::vector<psp::ledger::ledger_transaction> out;
  std::string start = "-";
  while (!last_id.empty()) {
    auto batch = conn.run({"XRANGE", psp::keys::ledger_stream, start, last_id,
                           "COUNT", std::to_string(ledger_batch_max)});
    if (!batch) {
      return read_failure{exit_unreachable, conn.last_error()};
    }
    if (batch->is_error()) {
      return reply_failure(*batch, psp::keys::ledger_stream);
    }
    for (auto& entry : batch->elements) {
      out.push_back(to_transaction(entry));
    }
    if (batch->elements.size() < ledger_batch_max) {
      break;
    }
    auto& tail = batch->elements.back();
    auto read_id = tail.elements.empty() ? std::string{}
                                         : tail.elements[0].text();
    if (read_id == last_id) {
      break;
    }
    auto next = psp::ledger::next_stream_id(read_id);
    if (!next) {
      return read_failure{exit_inconsistent,
                          "unexpected stream entry id '" + read_id + "'"};
    }
    start = *next;
  }
  return out;
}

/// Merchants whose mirror hash is checked: the index set and every merchant
/// that has an account in ledger:balances (also those created before the
/// index existed).
std::variant<std::vector<std::string>, read_failure>
known_merchants(psp::redis::connection& conn) {
  auto res = conn.pipeline({{"SMEMBERS", psp::keys::merchants},
                            {"HKEYS", psp::keys::balances}});
  if (!res) {
    return read_failure{exit_unreachable, conn.last_error()};
  }
  auto& index = (*res)[0];
  auto& accounts = (*res)[1];
  if (index.is_error() || accounts.is_error()) {
    return reply_failure(index.is_error() ? index : accounts,
                         "the merchant list");
  }
  std::set<std::string> ids;
  for (auto& e : index.elements) {
    ids.insert(e.text());
  }
  for (auto& e : accounts.elements) {
    if (auto id = psp::ledger::merchant_of_account(e.text())) {
      ids.insert(*id);
    }
  }
  return std::vector<std::string>{ids.begin(), ids.end()};
}

int verify_ledger(psp::redis::connection& conn, const std::string& where) {
  auto fail = [&](const read_failure& f) {
    std::cerr << "psp-admin: cannot read the ledger at " << where << ": "
              << f.message << '\n';
    return f.exit_code;
  };
  auto merchants = known_merchants(conn);
  if (auto* f = std::get_if<read_failure>(&merchants)) {
    return fail(*f);
  }
  psp::ledger::merchant_balance_hashes merchant_hashes;
  auto snapshot = read_snapshot(conn, std::get<0>(merchants), merchant_hashes);
  if (auto* f = std::get_if<read_failure>(&snapshot)) {
    return fail(*f);
  }
  auto& [balances, last_id] = std::get<0>(snapshot);
  auto transactions = read_transactions(conn, last_id);
  if (auto* f = std::get_if<read_failure>(&transactions)) {
    return fail(*f);
  }
  auto report = psp::ledger::check_ledger(std::get<0>(transactions), balances);
  auto mirrors = psp::ledger::check_merchant_balances(std::get<0>(transactions),
                                                      merchant_hashes);
  // One verdict for both checks: the ledger report without its own result
  // line, the merchant mirrors, then the overall result.
  auto text = psp::ledger::format_report(report);
  text.erase(text.rfind("result: "));
  bool consistent = report.consistent() && mirrors.consistent();
  std::cout << text << psp::ledger::format_merchant_report(mirrors)
            << (consistent ? std::string{"result: consistent\n"}
                           : "result: INCONSISTENT ("
                               + std::to_string(report.problems.size())
                               + " transaction problems, "
                               + std::to_string(report.differences.size())
                               + " balance differences, "
                               + std::to_string(mirrors.differences.size())
                               + " merchant balance differences)\n")
            << std::flush;
  return consistent ? 0 : exit_inconsistent;
}

// KEYS: merchant. ARGV: field/value pairs. Only an existing merchant
// (HSET would make a hash without a key); answers its fees after, or
// 'missing'.
const char* set_fees_lua = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
redis.call('HSET', KEYS[1], unpack(ARGV))
redis.call('INCR', 'merchants:generation') -- nodes drop cached fees
return redis.call('HMGET', KEYS[1], 'fee_bps', 'fee_fixed_minor')
)lua";

/// Changes a merchant's fees. A payment keeps the fees of when it was
/// created (they are copied onto its intent), so this applies to payments
/// created from now on; the step bumps merchants:generation, so nodes drop
/// their cached fees within about a second.
int set_fees(psp::redis::connection& conn,
             std::map<std::string, std::string>& opts) {
  auto merchant = opts["--merchant"];
  if (merchant.rfind("acct_", 0) != 0) {
    return usage("set-fees needs --merchant acct_...");
  }
  if (opts.count("--fee-bps") == 0 && opts.count("--fee-fixed-minor") == 0) {
    return usage("set-fees needs --fee-bps N, --fee-fixed-minor N or both");
  }
  if (auto why = normalize_fee_flags(opts)) {
    return usage(*why);
  }
  std::vector<std::string> command{"EVAL", set_fees_lua, "1",
                                   psp::keys::merchant(merchant)};
  for (auto [flag, field] : {std::pair{"--fee-bps", "fee_bps"},
                             std::pair{"--fee-fixed-minor",
                                       "fee_fixed_minor"}}) {
    if (opts.count(flag) != 0) {
      command.insert(command.end(), {field, opts[flag]});
    }
  }
  auto res = conn.query(command);
  if (!res) {
    std::cerr << "psp-admin: cannot write to Redis at " << opts["--redis"]
              << ": " << conn.last_error() << '\n';
    return exit_unreachable;
  }
  if (!res->is_array() || res->elements.size() != 2) {
    std::cerr << "psp-admin: no merchant " << merchant << '\n';
    return exit_usage;
  }
  std::cout << "{\"merchant\": \"" << merchant << "\", \"fee_bps\": "
            << res->elements[0].text() << ", \"fee_fixed_minor\": "
            << res->elements[1].text()
            << ", \"applies_to\": \"payments created from now on (a node "
               "may use the old fees for about a second)\"}"
            << std::endl;
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  auto parsed = psp::admin::parse_command_line({argv + 1, argv + argc});
  if (auto* why = std::get_if<std::string>(&parsed)) {
    return usage(*why);
  }
  auto& line = std::get<psp::admin::command_line>(parsed);
  if (line.help) {
    print_usage(std::cout);
    return 0;
  }
  auto& command = line.command;
  std::map<std::string, std::string> opts{{"--redis", "127.0.0.1:6379"}};
  std::set<std::string> allowed{"--redis"};
  if (command == "create-merchant") {
    opts.insert({{"--fee-bps", "290"}, {"--fee-fixed-minor", "30"}});
    allowed.insert({"--name", "--fee-bps", "--fee-fixed-minor"});
  } else if (command == "reconcile") {
    allowed.insert({"--card-network-url", "--from", "--to", "--grace-s"});
  } else if (command == "statement") {
    allowed.insert({"--merchant", "--from", "--to", "--format"});
  } else if (command == "archive") {
    opts.insert({"--after-s", "600"});
    allowed.insert("--after-s");
  } else if (command == "roll-key") {
    allowed.insert({"--merchant", "--expire-old-s"});
  } else if (command == "set-fees") {
    allowed.insert({"--merchant", "--fee-bps", "--fee-fixed-minor"});
  } else if (command == "end-reopened-sessions") {
    allowed.insert("--run");
  } else if (command == "accept-redis-state") {
    allowed.insert("--reason");
  } else if (command == "forget-node") {
    allowed.insert("--node");
  } else if (command != "verify-ledger" && command != "backfill-expiry"
             && command != "members") {
    return usage(command.empty() ? "no command given"
                                 : "unknown command '" + command + "'");
  }
  for (auto& [key, val] : line.flags) {
    if (allowed.count(key) == 0) {
      return usage(key + " is not an option of " + command);
    }
    opts[key] = val;
  }
  auto where = psp::redis::parse_endpoint(opts["--redis"]);
  if (!where) {
    if (opts["--redis"].find('@') != std::string::npos) {
      // Not echoed: the part before '@' may be a password.
      std::cerr << "psp-admin: --redis must be HOST:PORT without "
                   "credentials (give them in PSP_REDIS_USER and "
                   "PSP_REDIS_PASSWORD)\n";
    } else {
      std::cerr << "psp-admin: --redis must be HOST:PORT, not '"
                << opts["--redis"] << "'\n";
    }
    return exit_usage;
  }
  psp::redis::credentials_from_env(*where);
  psp::redis::connection conn{*where, redis_timeout_ms};
  // No password given (the PING answers NOAUTH) or a wrong one (the AUTH
  // after connecting fails): every command would fail the same way, each
  // worded for its own step, so say it once with where the password goes.
  auto pong = conn.run({"PING"});
  auto refusal = pong ? (pong->is_error() ? pong->str : std::string{})
                      : conn.last_error();
  if (refusal.find("NOAUTH") != std::string::npos
      || refusal.find("WRONGPASS") != std::string::npos) {
    std::cerr << "psp-admin: Redis at " << opts["--redis"] << " refused us: "
              << refusal << " (give its password in PSP_REDIS_PASSWORD, "
              << "and PSP_REDIS_USER for an ACL user; ./run.sh keeps its "
              << "Redis's in <run dir>/redis_password)\n";
    return exit_unreachable;
  }
  if (command == "create-merchant") {
    return audited(conn, command, opts, create_merchant(conn, opts));
  }
  if (command == "reconcile") {
    return psp::admin::reconcile_command(conn, opts);
  }
  if (command == "statement") {
    return psp::admin::statement_command(conn, opts);
  }
  if (command == "archive") {
    return psp::admin::archive_command(conn, opts);
  }
  if (command == "roll-key") {
    return audited(conn, command, opts,
                   psp::admin::roll_key_command(conn, opts));
  }
  if (command == "set-fees") {
    return audited(conn, command, opts, set_fees(conn, opts));
  }
  if (command == "end-reopened-sessions") {
    return audited(conn, command, opts,
                   psp::admin::end_reopened_sessions_command(conn, opts));
  }
  if (command == "accept-redis-state") {
    return audited(conn, command, opts,
                   psp::admin::accept_redis_state_command(
                     conn, opts, operator_identity()));
  }
  if (command == "members") {
    return psp::admin::members_command(conn);
  }
  if (command == "forget-node") {
    return audited(conn, command, opts,
                   psp::admin::forget_node_command(conn, opts));
  }
  if (command == "backfill-expiry") {
    auto done = psp::redis::backfill_session_expiry(conn);
    if (done.failed) {
      std::cerr << "psp-admin: backfill failed: " << conn.last_error() << '\n';
      return exit_unreachable;
    }
    std::cout << "{\"seen\": " << done.seen << ", \"added\": " << done.added
              << "}\n";
    return 0;
  }
  return verify_ledger(conn, opts["--redis"]);
}
