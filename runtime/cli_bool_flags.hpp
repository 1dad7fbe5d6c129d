#pragma once

// CAF 0.17 reads a bool option on the command line only as a bare flag:
// `--psp.name` sets it, `--psp.name=true` and `=false` are an
// illegal_argument error, and no flag sets it back to false. Every other
// option is written --psp.<name>=<value> (scripts, docs, later flags win),
// so a bool option's value is taken out of the command line before CAF
// parses it, and applied after, where it wins over the INI file as any
// command-line value does.

#include <optional>
#include <string>
#include <vector>

namespace psp {

/// Removes every `--<name>`, `--<name>=true` and `--<name>=false` from
/// `args` and returns the last one's value (the bare flag is true);
/// nullopt when there is none. Another value: nullopt and `err` says why.
std::optional<bool> take_bool_flag(std::vector<std::string>& args,
                                   const std::string& name, std::string& err);

} // namespace psp
