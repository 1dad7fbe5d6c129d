// psp-node: one PSP node (HTTP adapter + actors). All nodes are alike.
// Options: --psp.<name>=<value> or caf-application.ini; --help lists them.

#include "runtime/node.hpp"
#include "runtime/node_config.hpp"

#include <caf/init_global_meta_objects.hpp>

#include <iostream>

int main(int argc, char** argv) {
  psp::node_config cfg;
  if (auto err = cfg.parse(argc, argv)) {
    std::cerr << "psp-node: bad configuration: " << to_string(err) << '\n';
    return 2;
  }
  if (cfg.cli_helptext_printed) {
    return 0;
  }
  std::string problem;
  if (!cfg.finish(problem)) {
    std::cerr << "psp-node: bad configuration: " << problem << '\n';
    return 2;
  }
  return psp::run_node(cfg);
}
