#include "runtime/settlement_client.hpp"

#include "runtime/recon_json.hpp"

#include <httplib.h>

namespace psp::recon {

namespace {

report_failure network_failure(const std::string& why) {
  return {report_failure::kind::card_network, why};
}

} // namespace

std::variant<std::vector<network_line>, report_failure>
fetch_settlement(const settlement_settings& cfg, const period& window) {
  try {
    httplib::Client client{cfg.base_url};
    client.set_connection_timeout(cfg.connect_timeout_ms / 1000,
                                  (cfg.connect_timeout_ms % 1000) * 1000);
    client.set_read_timeout(cfg.read_timeout_ms / 1000,
                            (cfg.read_timeout_ms % 1000) * 1000);
    auto path = "/admin/settlement?from=" + std::to_string(window.from_s)
                + "&to=" + std::to_string(window.to_s);
    std::string body;
    bool too_large = false;
    auto res = client.Get(path, [&](const char* data, size_t n) {
      if (body.size() + n > cfg.body_bytes_max) {
        too_large = true;
        return false;
      }
      body.append(data, n);
      return true;
    });
    if (too_large) {
      return network_failure("the settlement report exceeds "
                             + std::to_string(cfg.body_bytes_max) + " bytes");
    }
    if (!res) {
      return network_failure("GET " + cfg.base_url + path + ": "
                             + httplib::to_string(res.error()));
    }
    if (res->status != 200) {
      return network_failure("GET " + cfg.base_url + path + ": HTTP "
                             + std::to_string(res->status) + " "
                             + body.substr(0, 200));
    }
    auto lines = parse_settlement(body);
    if (auto* why = std::get_if<std::string>(&lines)) {
      return network_failure(*why);
    }
    return std::get<std::vector<network_line>>(std::move(lines));
  } catch (const std::exception& e) {
    // httplib throws on a malformed URL; nothing else should escape.
    return network_failure(std::string{"settlement client: "} + e.what());
  }
}

} // namespace psp::recon
