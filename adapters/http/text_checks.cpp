#include "adapters/http/text_checks.hpp"

#include <algorithm>
#include <cctype>

namespace psp::http {

namespace {

constexpr size_t url_bytes_max = 2048;
constexpr size_t email_bytes_max = 254;

bool is_port(std::string_view digits) {
  if (digits.empty() || digits.size() > 5) {
    return false;
  }
  unsigned port = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') {
      return false;
    }
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  return port >= 1 && port <= 65535;
}

/// A DNS name or IPv4 address: labels of letters, digits, '-' (and bytes of
/// an internationalised name) separated by single dots.
bool is_host_name(std::string_view host) {
  if (host.empty() || host.front() == '.' || host.front() == '-'
      || host.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(host.begin(), host.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || c == '-' || c == '.' || u >= 0x80;
  });
}

bool is_ipv6_literal(std::string_view inside) {
  return !inside.empty()
         && std::all_of(inside.begin(), inside.end(), [](char c) {
              return std::isxdigit(static_cast<unsigned char>(c)) || c == ':'
                     || c == '.';
            });
}

/// host[:port], with the host possibly a bracketed IPv6 literal.
bool is_host_and_port(std::string_view hp) {
  if (!hp.empty() && hp.front() == '[') {
    auto close = hp.find(']');
    if (close == std::string_view::npos
        || !is_ipv6_literal(hp.substr(1, close - 1))) {
      return false;
    }
    auto after = hp.substr(close + 1);
    return after.empty() || (after.front() == ':' && is_port(after.substr(1)));
  }
  auto colon = hp.find(':');
  if (colon == std::string_view::npos) {
    return is_host_name(hp);
  }
  return is_host_name(hp.substr(0, colon)) && is_port(hp.substr(colon + 1));
}

/// host[:port] of an absolute URL: after "://", before the path, query or
/// fragment, after the last '@' (user:password@ stays allowed; some stores
/// guard their webhook URL so).
std::string_view host_and_port(std::string_view url) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos) {
    return {};
  }
  auto rest = url.substr(sep + 3);
  auto authority = rest.substr(0, rest.find_first_of("/?#"));
  auto at = authority.rfind('@');
  return at == std::string_view::npos ? authority : authority.substr(at + 1);
}

} // namespace

std::string ascii_lower(std::string_view text) {
  std::string out{text};
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

bool equals_ignoring_case(std::string_view text, std::string_view lower) {
  return text.size() == lower.size()
         && std::equal(text.begin(), text.end(), lower.begin(),
                       [](char a, char b) {
                         return std::tolower(static_cast<unsigned char>(a))
                                == b;
                       });
}

bool starts_with_ignoring_case(std::string_view text, std::string_view lower) {
  return equals_ignoring_case(text.substr(0, lower.size()), lower);
}

bool has_control_or_direction_override(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x20 || b == 0x7f) {
      return true;
    }
    auto next = [&](size_t k) {
      return i + k < text.size() ? static_cast<unsigned char>(text[i + k])
                                 : 0;
    };
    if (b == 0xC2 && next(1) >= 0x80 && next(1) <= 0x9F) {
      return true; // C1
    }
    if (b == 0xE2 && next(1) == 0x80 && next(2) >= 0xAA && next(2) <= 0xAE) {
      return true; // LRE, RLE, PDF, LRO, RLO
    }
    if (b == 0xE2 && next(1) == 0x81 && next(2) >= 0xA6 && next(2) <= 0xA9) {
      return true; // LRI, RLI, FSI, PDI
    }
  }
  return false;
}

size_t utf8_length(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string_view url_host(std::string_view url) {
  auto hp = host_and_port(url);
  if (!hp.empty() && hp.front() == '[') {
    auto close = hp.find(']');
    return close == std::string_view::npos ? hp.substr(1)
                                           : hp.substr(1, close - 1);
  }
  return hp.substr(0, hp.find(':'));
}

bool is_http_url(std::string_view text) {
  if (text.size() > url_bytes_max
      || std::any_of(text.begin(), text.end(), [](char c) {
           auto u = static_cast<unsigned char>(c);
           return u <= 0x20 || u == 0x7f;
         })) {
    return false;
  }
  auto sep = text.find("://");
  if (sep == std::string_view::npos) {
    return false;
  }
  auto scheme = text.substr(0, sep);
  if (!equals_ignoring_case(scheme, "http") && !equals_ignoring_case(scheme, "https")) {
    return false;
  }
  return is_host_and_port(host_and_port(text));
}

bool looks_like_email(std::string_view text) {
  auto at = text.find('@');
  if (text.size() > email_bytes_max || at == std::string_view::npos || at == 0
      || text.find('@', at + 1) != std::string_view::npos
      || text.find_first_of(" \t\r\n<>()[],;:\\\"") != std::string_view::npos) {
    return false;
  }
  auto domain = text.substr(at + 1);
  auto dot = domain.find('.');
  return dot != std::string_view::npos && dot > 0 && domain.back() != '.'
         && domain.find("..") == std::string_view::npos;
}

} // namespace psp::http
