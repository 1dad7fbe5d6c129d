// Command-line options of example-store, parsed and validated once at start.
#pragma once

#include <optional>
#include <string>

namespace store {

struct store_options {
  /// Port to listen on; 0 lets the kernel pick a free one.
  int port = -1;
  /// Address to bind. The default keeps the demo off the network.
  std::string host = "127.0.0.1";
  /// Base URL of the PSP, e.g. http://127.0.0.1:8080 (no path).
  std::string psp_url;
  /// Secret API key `sk_test_…`; --api-key wins over $PSP_API_KEY.
  std::string api_key;
  /// How the PSP and shoppers reach this store; empty means
  /// http://127.0.0.1:<bound port>, decided after binding.
  std::string public_url;
  /// File the orders are journaled to and replayed from at start; empty
  /// keeps them in memory only (a restart forgets them).
  std::string journal_path;
};

struct options_result {
  std::optional<store_options> options; ///< set when valid
  bool help = false;                    ///< --help was asked for
  std::string error;                    ///< why parsing failed
};

/// Parses `--flag value` and `--flag=value`. `env_api_key` is $PSP_API_KEY,
/// or nullptr when unset.
options_result parse_options(int argc, const char* const* argv,
                             const char* env_api_key);

/// The usage text printed for --help and after an error.
std::string usage();

} // namespace store
