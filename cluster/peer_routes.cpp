#include "cluster/peer_routes.hpp"

#include <cctype>

namespace psp {

namespace {

bool valid_port(const std::string& text) {
  if (text.empty() || text.size() > 5) {
    return false;
  }
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  auto n = std::stoi(text);
  return n >= 1 && n <= 65535;
}

bool parse_item(const std::string& item, peer_routes& out, std::string& err) {
  auto eq = item.find('=');
  auto colon = item.rfind(':');
  if (eq == std::string::npos || eq == 0 || colon == std::string::npos
      || colon < eq + 2) {
    err = "'" + item + "' is not id=host:port";
    return false;
  }
  auto id = item.substr(0, eq);
  auto host = item.substr(eq + 1, colon - eq - 1);
  auto port = item.substr(colon + 1);
  if (host.find_first_of("= ") != std::string::npos || !valid_port(port)) {
    err = "'" + item + "' is not id=host:port (port 1..65535)";
    return false;
  }
  if (!out.emplace(id, host + ":" + port).second) {
    err = "node id '" + id + "' has two routes";
    return false;
  }
  return true;
}

} // namespace

bool parse_peer_routes(const std::string& text, peer_routes& out,
                       std::string& err) {
  out.clear();
  if (text.empty()) {
    return true;
  }
  size_t start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string::npos
                                     ? std::string::npos
                                     : comma - start);
    if (!parse_item(item, out, err)) {
      return false;
    }
    if (out.size() > peer_routes_max) {
      err = "more than " + std::to_string(peer_routes_max) + " routes";
      return false;
    }
    if (comma == std::string::npos) {
      return true;
    }
    start = comma + 1;
  }
}

const std::string& dial_address(const peer_routes& routes,
                                const std::string& peer_id,
                                const std::string& registered_address) {
  auto i = routes.find(peer_id);
  return i == routes.end() ? registered_address : i->second;
}

} // namespace psp
