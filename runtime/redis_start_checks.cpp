#include "runtime/redis_start_checks.hpp"

#include "adapters/crypto/digest.hpp"
#include "adapters/crypto/encoding.hpp"
#include "adapters/redis/clock_check.hpp"
#include "adapters/redis/durability_check.hpp"
#include "adapters/redis/vault_key_check.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>

namespace psp {

namespace {

/// Logs what is wrong with the Redis settings; false when the node must not
/// start on them (a setting that breaks durability, under "require").
bool redis_durable_enough(redis::connection& conn, const node_config& cfg) {
  std::string err;
  auto settings = redis::read_redis_settings(conn, err);
  if (!settings) {
    // A managed Redis may refuse CONFIG; its durability is its provider's.
    spdlog::warn("event=redis_settings_unverified error=\"{}\"", err);
    return true;
  }
  bool refuse = false;
  for (auto& f : redis::judge_redis_settings(*settings)) {
    if (f.breaks_durability && cfg.redis_durability == "require") {
      std::cerr << "psp-node: Redis at " << cfg.redis << " is not durable: "
                << f.text << " (or start with --psp.redis-durability=warn)\n";
      refuse = true;
    } else {
      spdlog::warn("event=redis_setting setting={} durability={} \"{}\"",
                   f.setting, f.breaks_durability ? "broken" : "kept", f.text);
    }
  }
  return !refuse;
}

/// 0 when the node's vault key is the one the nodes of this Redis use (or
/// it is the first), else the exit code: 9 another key, 3 Redis failed.
int vault_key_exit_code(redis::connection& conn, const node_config& cfg) {
  auto key = crypto::from_hex(cfg.vault_key_hex);
  auto check = crypto::to_hex(
    crypto::hmac_sha256(key ? *key : "", "psp vault key check v1"));
  switch (redis::claim_or_compare_vault_key(conn, check)) {
    case redis::vault_key_verdict::first:
      spdlog::info("event=vault_key_check_stored key={}",
                   redis::vault_key_check_key);
      return 0;
    case redis::vault_key_verdict::same:
      return 0;
    case redis::vault_key_verdict::different:
      std::cerr << "psp-node: this node's vault key is not the one the "
                   "other nodes of Redis "
                << cfg.redis << " use (" << redis::vault_key_check_key
                << "): their cards could not be opened here and re-run "
                   "requests would name other objects; give every node "
                   "the same --psp.vault-key, PSP_VAULT_KEY or vault.key\n";
      return 9;
    case redis::vault_key_verdict::failed:
      break;
  }
  std::cerr << "psp-node: cannot use Redis at " << cfg.redis << ": "
            << conn.last_error() << '\n';
  return 3;
}

/// False (the reason on stderr) when this machine's clock is too far from
/// Redis's for the leases; a failed measurement is logged and passes (the
/// next Redis call tells whether Redis is there).
bool clock_close_enough(redis::connection& conn, const node_config& cfg) {
  auto measured = redis::measure_clock_offset(conn);
  if (!measured) {
    spdlog::warn("event=clock_offset_unmeasured error=\"{}\"",
                 conn.last_error());
    return true;
  }
  auto lease_ms = static_cast<int64_t>(
    std::min(cfg.idempotency_lease_ms, cfg.webhook_lease_ms));
  switch (redis::judge_clock_offset(*measured, lease_ms)) {
    case redis::clock_verdict::fine:
      return true;
    case redis::clock_verdict::warn:
      spdlog::warn("event=clock_offset offset_ms={} uncertainty_ms={} "
                   "\"this machine's clock differs from Redis's; leases "
                   "written by other nodes expire early or late by as "
                   "much\"",
                   measured->offset_ms, measured->uncertainty_ms);
      return true;
    case redis::clock_verdict::refuse:
      break;
  }
  std::cerr << "psp-node: this machine's clock is " << measured->offset_ms
            << " ms off Redis's (at " << cfg.redis << "), more than a "
            << "quarter of the shortest lease (" << lease_ms << " ms): "
            << "one of the two clocks is broken; the node would stamp and "
               "judge time by Redis's (decision 63) and log by its own; "
               "synchronise both (NTP)\n";
  return false;
}

} // namespace

int redis_start_checks(redis::connection& conn, const node_config& cfg) {
  if (!redis_durable_enough(conn, cfg)) {
    return 8;
  }
  if (!clock_close_enough(conn, cfg)) {
    return 10;
  }
  return vault_key_exit_code(conn, cfg);
}

} // namespace psp
