// psp-node: one PSP node (HTTP adapter + actors). All nodes are alike.
// Options: --psp.<name>=<value> or caf-application.ini; --help lists them
// (CAF's --long-help: its plain --help shows only CAF's global options).

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
  std::vector<char*> argv_used;
  for (auto& a : args) {
    argv_used.push_back(a.data());
  }
  psp::node_config cfg;
  if (auto err = cfg.parse(argc, argv_used.data())) {
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
