// psp-node: one PSP node (HTTP adapter + actors). All nodes are alike.
// Options: --psp.<name>=<value> or caf-application.ini; --help lists them
// (CAF's --long-help: its plain --help shows only CAF's global options).

#include "runtime/cli_bool_flags.hpp"
#include "runtime/node.hpp"
#include "runtime/node_config.hpp"

#include <caf/init_global_meta_objects.hpp>

#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  std::vector<std::string> args{argv, argv + argc};
  for (auto& a : args) {
    if (a == "--help" || a == "-h") {
      a = "--long-help";
    }
  }
  std::string problem;
  auto private_addresses
    = psp::take_bool_flag(args, "psp.webhook-private-addresses", problem);
  if (!problem.empty()) {
    std::cerr << "psp-node: bad configuration: " << problem << '\n';
    return 2;
  }
  std::vector<char*> argv_used;
  for (auto& a : args) {
    argv_used.push_back(a.data());
  }
  psp::node_config cfg;
  if (auto err = cfg.parse(static_cast<int>(argv_used.size()),
                           argv_used.data())) {
    std::cerr << "psp-node: bad configuration: " << to_string(err) << '\n';
    return 2;
  }
  if (cfg.cli_helptext_printed) {
    return 0;
  }
  if (private_addresses) {
    cfg.webhook_private_addresses = *private_addresses;
  }
  if (!cfg.finish(problem)) {
    std::cerr << "psp-node: bad configuration: " << problem << '\n';
    return 2;
  }
  return psp::run_node(cfg);
}
