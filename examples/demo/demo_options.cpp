#include "demo_options.hpp"

#include <string_view>

namespace demo {

namespace {

options_result fail(std::string message) {
  options_result r;
  r.error = std::move(message);
  return r;
}

// http://host:port with no path; a trailing slash is dropped.
std::optional<std::string> parse_base_url(std::string url) {
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  const std::string_view scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0 ||
      url.size() == scheme.size() ||
      url.find('/', scheme.size()) != std::string::npos) {
    return std::nullopt;
  }
  return url;
}

std::optional<int> parse_int(const std::string& text, int min, int max) {
  if (text.empty() || text.size() > 9 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  int value = std::stoi(text);
  if (value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

// Stores one flag's value; "" on success, else the error.
std::string apply(demo_options& opts, const std::string& name,
                  const std::string& value) {
  if (name == "--store" || name == "--psp") {
    auto url = parse_base_url(value);
    if (!url) {
      return name + " must look like http://127.0.0.1:8080, got '" + value +
             "'";
    }
    (name == "--store" ? opts.store_url : opts.psp_url) = *url;
    return "";
  }
  bool checkouts = name == "--checkouts";
  auto number = checkouts ? parse_int(value, 1, checkouts_max)
                          : parse_int(value, 1, timeout_s_max);
  if (!number) {
    return name + " must be a whole number from 1 to " +
           std::to_string(checkouts ? checkouts_max : timeout_s_max) +
           ", got '" + value + "'";
  }
  (checkouts ? opts.checkouts : opts.timeout_s) = *number;
  return "";
}

} // namespace

options_result parse_options(int argc, const char* const* argv) {
  demo_options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      options_result r;
      r.help = true;
      return r;
    }
    std::string name = arg;
    std::string value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return fail(arg + " needs a value");
    }
    if (name != "--store" && name != "--psp" && name != "--checkouts" &&
        name != "--timeout-s") {
      return fail("unknown option '" + name + "'");
    }
    if (auto err = apply(opts, name, value); !err.empty()) {
      return fail(err);
    }
  }
  if (opts.store_url.empty() || opts.psp_url.empty()) {
    return fail("--store and --psp are required");
  }
  options_result r;
  r.options = std::move(opts);
  return r;
}

std::string usage() {
  return "usage: checkout-demo --store http://127.0.0.1:N "
         "--psp http://127.0.0.1:M\n"
         "                     [--checkouts 6] [--timeout-s 30]\n"
         "  --store URL      the example store (POST /buy, GET /orders.json)\n"
         "  --psp URL        a PSP node serving the hosted payment pages\n"
         "  --checkouts N    checkouts to drive (1..1000, default 6)\n"
         "  --timeout-s N    bound on each wait in seconds (default 30)\n";
}

} // namespace demo
