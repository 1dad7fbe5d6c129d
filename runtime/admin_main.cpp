// psp-admin: operator commands against a PSP's Redis.
//   psp-admin --redis HOST:PORT create-merchant --name NAME
//             [--fee-bps 290] [--fee-fixed-minor 30]
// prints {"merchant": "acct_...", "secret_key": "sk_test_..."}; the key is
// shown once and stored only as its SHA-256.

#include "actors/clock.hpp"
#include "adapters/crypto/api_key.hpp"
#include "adapters/crypto/random_id.hpp"
#include "adapters/redis/keys.hpp"
#include "adapters/redis/redis_connection.hpp"

#include <iostream>
#include <map>
#include <string>

namespace {

int usage() {
  std::cerr << "usage: psp-admin --redis HOST:PORT create-merchant --name NAME"
               " [--fee-bps N] [--fee-fixed-minor N]\n";
  return 2;
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() < 10
         && s.find_first_not_of("0123456789") == std::string::npos;
}

} // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> opts{{"--redis", "127.0.0.1:6379"},
                                          {"--fee-bps", "290"},
                                          {"--fee-fixed-minor", "30"}};
  std::string command;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0) {
      if (i + 1 >= argc) {
        return usage();
      }
      opts[arg] = argv[++i];
    } else if (command.empty()) {
      command = arg;
    } else {
      return usage();
    }
  }
  if (command != "create-merchant" || opts["--name"].empty()
      || !all_digits(opts["--fee-bps"]) || !all_digits(opts["--fee-fixed-minor"])
      || opts.size() != 4) {
    return usage();
  }
  auto where = psp::redis::parse_endpoint(opts["--redis"]);
  if (!where) {
    std::cerr << "psp-admin: --redis must be host:port\n";
    return 2;
  }
  psp::redis::connection conn{*where, 2000};
  auto id = psp::crypto::new_id("acct_");
  auto key = psp::crypto::new_secret_key();
  auto hash = psp::crypto::api_key_hash(key);
  auto res = conn.pipeline(
    {{"MULTI"},
     {"HSET", psp::keys::merchant(id), "id", id, "name", opts["--name"],
      "fee_bps", opts["--fee-bps"], "fee_fixed_minor", opts["--fee-fixed-minor"],
      "key_hash", hash, "created", std::to_string(psp::unix_now_s())},
     {"SET", psp::keys::api_key(hash), id},
     {"EXEC"}});
  if (!res || !res->back().is_array()) {
    std::cerr << "psp-admin: cannot write to Redis at " << opts["--redis"]
              << ": " << conn.last_error() << '\n';
    return 3;
  }
  std::cout << "{\"merchant\": \"" << id << "\", \"secret_key\": \"" << key
            << "\"}" << std::endl;
  return 0;
}
