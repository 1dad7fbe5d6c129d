// psp-node: one PSP node (HTTP adapter + actors). All nodes are alike.
// Options: --psp.<name>=<value> or caf-application.ini; --help lists them
// (CAF's --long-help: its plain --help shows only CAF's global options).

#include "runtime/cli_bool_flags.hpp"
#include "runtime/node.hpp"
#include "runtime/node_config.hpp"

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/init_global_meta_objects.hpp>
#include <caf/pec.hpp>

#include <iostream>
#include <regex>
#include <string>
#include <vector>

namespace {

/// CAF's parser error as a person reads it: which option, what is wrong.
/// A value is shown only where it is a number: a mistyped option name may
/// be followed by a password.
std::string describe(const caf::error& err) {
  auto text = to_string(err);
  std::smatch found;
  static const std::regex argument{R"re("argument" = "(--[^=" ]*)(=?)([^"]*)")re"};
  if (err.category() != caf::atom("parser")
      || !std::regex_search(text, found, argument)) {
    return text;
  }
  auto option = found[1].str();
  switch (static_cast<caf::pec>(err.code())) {
    case caf::pec::not_an_option:
      return option + ": no such option (psp-node --help lists them)";
    case caf::pec::integer_overflow:
    case caf::pec::integer_underflow:
      return option + "=" + found[3].str() + ": out of range for this option";
    case caf::pec::missing_argument:
      return option + ": the value is missing";
    default:
      return option + ": not a value this option takes (" + to_string(
               static_cast<caf::pec>(err.code())) + ")";
  }
}

} // namespace

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
    std::cerr << "psp-node: bad configuration: " << describe(err) << '\n';
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
