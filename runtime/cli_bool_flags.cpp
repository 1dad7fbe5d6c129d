#include "runtime/cli_bool_flags.hpp"

namespace psp {

std::optional<bool> take_bool_flag(std::vector<std::string>& args,
                                   const std::string& name, std::string& err) {
  const std::string bare = "--" + name;
  const std::string with_value = bare + "=";
  std::optional<bool> last;
  std::vector<std::string> kept;
  kept.reserve(args.size());
  for (auto& a : args) {
    if (a == bare) {
      last = true;
    } else if (a.rfind(with_value, 0) == 0) {
      auto value = a.substr(with_value.size());
      if (value != "true" && value != "false") {
        err = name + " must be true or false, got '" + value + "'";
        return std::nullopt;
      }
      last = value == "true";
    } else {
      kept.push_back(std::move(a));
    }
  }
  args = std::move(kept);
  return last;
}

} // namespace psp
