#include "runtime/admin_flags.hpp"

#include <charconv>

namespace psp::admin {

namespace {

bool is_flag(const std::string& arg) {
  return arg.size() > 2 && arg.rfind("--", 0) == 0;
}

} // namespace

std::variant<command_line, std::string>
parse_command_line(const std::vector<std::string>& args) {
  command_line out;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out.help = true;
      continue;
    }
    if (!is_flag(arg)) {
      if (!out.command.empty()) {
        return "unexpected argument '" + arg + "'";
      }
      out.command = arg;
      continue;
    }
    std::string name = arg;
    std::string value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 >= args.size() || is_flag(args[i + 1])) {
      // `--from --to 5` would take "--to" as the time and "5" as the
      // command; a value that starts with "--" can still be given with '='.
      return name + " needs a value (" + name + " VALUE or " + name
             + "=VALUE)";
    } else {
      value = args[++i];
    }
    if (!out.flags.emplace(name, value).second) {
      return name + " is given twice";
    }
  }
  return out;
}

std::variant<int64_t, std::string> whole_number(const std::string& flag,
                                                const std::string& text,
                                                const number_rule& rule) {
  int64_t value = 0;
  auto end = text.data() + text.size();
  auto [at, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || at != end || value < rule.min
      || value > rule.max) {
    return flag + " must be " + rule.what + " from " + std::to_string(rule.min)
           + " to " + std::to_string(rule.max) + ", not '" + text + "'";
  }
  return value;
}

} // namespace psp::admin
