#include "runtime/redis_start_checks.hpp"

#include "adapters/crypto/digest.hpp"
#include "adapters/crypto/encoding.hpp"
#include "adapters/redis/durability_check.hpp"
#include "adapters/redis/vault_key_check.hpp"

#include <spdlog/spdlog.h>

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
int vault_key_verdict(redis::connection& conn, const node_config& cfg) {
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

} // namespace

int redis_start_checks(redis::connection& conn, const node_config& cfg) {
  if (!redis_durable_enough(conn, cfg)) {
    return 8;
  }
  return vault_key_verdict(conn, cfg);
}

} // namespace psp
