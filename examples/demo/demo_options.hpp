// Command line of checkout-demo. Pure: parsing is tested without a network.
#pragma once

#include <optional>
#include <string>

namespace demo {

struct demo_options {
  std::string store_url; ///< http://host:port of the example store
  std::string psp_url;   ///< http://host:port of a PSP node (hosted pages)
  int checkouts = 6;     ///< checkouts to drive, 1..checkouts_max
  int timeout_s = 30;    ///< bound on each wait (status poll, webhooks)
};

/// Limits on the flags: a demo, not a load generator.
constexpr int checkouts_max = 1000;
constexpr int timeout_s_max = 3600;

struct options_result {
  std::optional<demo_options> options;
  std::string error; ///< set when options is empty and help is false
  bool help = false;
};

/// Parses `--name value` and `--name=value` flags.
options_result parse_options(int argc, const char* const* argv);

std::string usage();

} // namespace demo
