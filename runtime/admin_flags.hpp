#pragma once

// psp-admin's command line: one command word and its flags, each written
// `--flag value` or `--flag=value` (as psp-node's `--psp.x=y`), and the
// checks of flag values, whose messages name the flag, what it takes and
// what was given. Pure: no Redis, no I/O.

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace psp::admin {

struct command_line {
  std::string command; ///< "" when none was given
  std::map<std::string, std::string> flags; ///< "--name" -> value
  bool help = false;   ///< --help or -h anywhere
};

/// The command line (argv without the program), or what is wrong with it:
/// a flag without a value, a flag given twice, a second command word.
std::variant<command_line, std::string>
parse_command_line(const std::vector<std::string>& args);

/// Inclusive bounds of a whole-number flag and what its number is, as in
/// "--grace-s must be <what> from <min> to <max>".
struct number_rule {
  int64_t min = 0;
  int64_t max = 0;
  const char* what = "a whole number";
};

/// `text` as a whole number within `rule`, or a message naming `flag`, the
/// range and the text given (also for a number too large for 64 bits).
std::variant<int64_t, std::string> whole_number(const std::string& flag,
                                                const std::string& text,
                                                const number_rule& rule);

/// The latest Unix time a --from or --to may name (9999-12-31T23:59:59Z):
/// bounds the arithmetic on periods.
inline constexpr int64_t unix_time_s_max = 253'402'300'799;

} // namespace psp::admin
