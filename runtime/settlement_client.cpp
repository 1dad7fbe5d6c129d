#include "runtime/settlement_client.hpp"

#include "runtime/connect_probe.hpp"
#include "runtime/recon_json.hpp"

#include <httplib.h>

namespace psp::recon {

namespace {

report_failure network_failure(const std::string& why) {
  return {report_failure::kind::card_network, why};
}

/// What went wrong when no answer came, in words (httplib's names, such as
/// "Connection", say little to an operator).
std::string why_no_answer(httplib::Error error,
                          const settlement_settings& cfg) {
  switch (error) {
    case httplib::Error::Connection:
      return connect_failure(cfg.base_url, cfg.connect_timeout_ms);
    case httplib::Error::ConnectionTimeout:
      return "no connection within " + std::to_string(cfg.connect_timeout_ms)
             + " ms";
    case httplib::Error::Read:
      return "the connection broke, or no answer came within "
             + std::to_string(cfg.read_timeout_ms) + " ms";
    case httplib::Error::Write:
      return "the connection broke while sending the request";
    case httplib::Error::SSLConnection:
      return "the TLS handshake failed";
    case httplib::Error::SSLServerVerification:
      return "the server's TLS certificate was not accepted";
    default:
      return "no answer (" + httplib::to_string(error) + ")";
  }
}

/// The start of an error answer's body, on one line; "" when empty.
std::string body_excerpt(const std::string& body) {
  auto text = body.substr(0, 200);
  for (auto& c : text) {
    c = c == '\n' || c == '\r' ? ' ' : c;
  }
  auto end = text.find_last_not_of(' ');
  return end == std::string::npos ? std::string{} : text.substr(0, end + 1);
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
                             + why_no_answer(res.error(), cfg));
    }
    if (res->status != 200) {
      auto excerpt = body_excerpt(body);
      return network_failure(
        "GET " + cfg.base_url + path + ": HTTP " + std::to_string(res->status)
        + (excerpt.empty() ? "" : ": " + excerpt)
        + (res->status == 404 ? " (no settlement report there: is this the "
                                "card network's URL?)"
                              : ""));
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
