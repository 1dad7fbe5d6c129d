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

#include <sys/prctl.h>
#include <sys/resource.h>

#include <iostream>
#include <regex>
#include <string>
#include <vector>

namespace {

/// The option an argument names, never its value: "--psp.x" of
/// "--psp.x=v", "-a" of "-aVALUE" (a short option's value follows at once).
std::string option_named(const std::string& argument) {
  if (argument.rfind("--", 0) == 0) {
    return argument.substr(0, argument.find('='));
  }
  if (argument.rfind('-', 0) == 0) {
    auto eq = argument.find('=');
    return eq == std::string::npos ? argument.substr(0, 2)
                                   : argument.substr(0, eq);
  }
  return "an argument that is no option";
}

/// CAF's parser error as a person reads it: which option, what is wrong.
/// A value is shown only where it is a number: a mistyped option name may
/// be followed by a password.
std::string describe(const caf::error& err) {
  auto text = to_string(err);
  std::smatch found;
  static const std::regex argument{R"re("argument" = "([^"]*)")re"};
  if (!std::regex_search(text, found, argument)) {
    return text; // names no argument, so repeats nothing the user typed
  }
  auto given = found[1].str();
  auto option = option_named(given);
  if (err.category() != caf::atom("parser")) {
    return option + ": not accepted (psp-node --help lists the options)";
  }
  switch (static_cast<caf::pec>(err.code())) {
    case caf::pec::not_an_option:
      return option + ": no such option (psp-node --help lists them)";
    case caf::pec::integer_overflow:
    case caf::pec::integer_underflow:
      return given.rfind("--", 0) == 0 && given.find('=') != std::string::npos
               ? given + ": out of range for this option"
               : option + ": out of range for this option";
    case caf::pec::missing_argument:
      return option + ": the value is missing";
    default:
      return option + ": not a value this option takes (" + to_string(
               static_cast<caf::pec>(err.code())) + ")";
  }
}

} // namespace

/// Card numbers and the vault key pass through this process's memory: no
/// core file may keep them, and no other process of the same user may read
/// it (ptrace, /proc/PID/mem). The card data audit found a core of a node
/// possible under `ulimit -c unlimited`, holding card numbers and the key.
void keep_memory_private() {
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int main(int argc, char** argv) {
  keep_memory_private();
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
  if (!cfg.remainder.empty()) {
    // CAF leaves what is no option aside; starting anyway would ignore a
    // setting the user meant to give. Not repeated: it may be a value.
    std::cerr << "psp-node: bad configuration: " << cfg.remainder.size()
              << " argument(s) that are no option (options are "
                 "--psp.<name>=<value>; psp-node --help lists them)\n";
    return 2;
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
