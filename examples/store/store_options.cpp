#include "store_options.hpp"

#include <string_view>

namespace store {

namespace {

// Accepts http(s)://host[:port] with an optional trailing slash, which is
// dropped so paths can be appended. Returns "" when the URL is unusable.
std::string normalize_base_url(std::string url) {
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  std::string_view view = url;
  auto scheme_end = view.find("://");
  if (scheme_end == std::string_view::npos) {
    return {};
  }
  auto scheme = view.substr(0, scheme_end);
  auto rest = view.substr(scheme_end + 3);
  if ((scheme != "http" && scheme != "https") || rest.empty() ||
      rest.find('/') != std::string_view::npos ||
      rest.find_first_of("?# ") != std::string_view::npos) {
    return {};
  }
  return url;
}

std::optional<int> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) {
    return std::nullopt;
  }
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  if (value > 65535) {
    return std::nullopt;
  }
  return value;
}

options_result fail(std::string message) {
  options_result r;
  r.error = std::move(message);
  return r;
}

// Checks the parsed values together, once all flags are known.
options_result validate(store_options opts, const char* env_api_key) {
  if (opts.port < 0) {
    return fail("--port is required (0 picks a free port)");
  }
  if (opts.psp_url.empty()) {
    return fail("--psp-url is required, e.g. http://127.0.0.1:8080");
  }
  auto psp = normalize_base_url(opts.psp_url);
  if (psp.empty()) {
    return fail("--psp-url must look like http://host:port, got '" +
                opts.psp_url + "'");
  }
  opts.psp_url = psp;
  if (opts.api_key.empty() && env_api_key != nullptr) {
    opts.api_key = env_api_key;
  }
  if (opts.api_key.empty()) {
    return fail("--api-key (or $PSP_API_KEY) is required");
  }
  if (!opts.public_url.empty()) {
    auto pub = normalize_base_url(opts.public_url);
    if (pub.empty()) {
      return fail("--public-url must look like http://host:port, got '" +
                  opts.public_url + "'");
    }
    opts.public_url = pub;
  }
  if (opts.host.empty()) {
    return fail("--host must not be empty");
  }
  options_result r;
  r.options = std::move(opts);
  return r;
}

} // namespace

options_result parse_options(int argc, const char* const* argv,
                             const char* env_api_key) {
  store_options opts;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      options_result r;
      r.help = true;
      return r;
    }
    std::string name(arg);
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      name = std::string(arg.substr(0, eq));
      value = std::string(arg.substr(eq + 1));
      has_value = true;
    }
    bool known = name == "--port" || name == "--host" || name == "--psp-url" ||
                 name == "--api-key" || name == "--public-url" ||
                 name == "--journal";
    if (!known) {
      return fail("unknown option '" + std::string(arg) + "'");
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        return fail(name + " needs a value");
      }
      value = argv[++i];
    }
    if (name == "--port") {
      auto port = parse_port(value);
      if (!port) {
        return fail("--port must be a number from 0 to 65535, got '" + value +
                    "'");
      }
      opts.port = *port;
    } else if (name == "--host") {
      opts.host = value;
    } else if (name == "--psp-url") {
      opts.psp_url = value;
    } else if (name == "--api-key") {
      opts.api_key = value;
    } else if (name == "--journal") {
      if (value.empty()) {
        return fail("--journal needs a file name");
      }
      opts.journal_path = value;
    } else {
      opts.public_url = value;
    }
  }
  return validate(std::move(opts), env_api_key);
}

std::string usage() {
  return "usage: example-store --port N --psp-url http://127.0.0.1:8080\n"
         "                     --api-key sk_test_... [--public-url URL]\n"
         "                     [--host 127.0.0.1] [--journal FILE]\n"
         "  --port N          port to listen on (0 = any free port)\n"
         "  --psp-url URL     base URL of the PSP\n"
         "  --api-key KEY     secret API key (or set $PSP_API_KEY)\n"
         "  --public-url URL  base URL the PSP and shoppers use to reach\n"
         "                    this store (default http://127.0.0.1:PORT)\n"
         "  --host ADDR       address to bind (default 127.0.0.1)\n"
         "  --journal FILE    keep the orders in FILE (one JSON line per\n"
         "                    change, synced before it is acknowledged) and\n"
         "                    replay it at start, so a restart forgets no\n"
         "                    order and a redelivered webhook stays a\n"
         "                    duplicate; without it orders live in memory\n"
         "                    only. The webhook endpoint (id and secret)\n"
         "                    is kept in FILE.endpoint, so a restarted\n"
         "                    store gets what the PSP had still to deliver\n";
}

} // namespace store
