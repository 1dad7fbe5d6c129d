#include "adapters/http_client/address_policy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace psp::http_client {

namespace {

struct ipv4_range {
  uint32_t prefix;
  int bits;
};

/// Not reachable on the public internet, or this machine's, its network's
/// or its cloud's (169.254.169.254 answers instance credentials).
constexpr ipv4_range non_public_ipv4[] = {
  {0x00000000, 8},  // 0/8: "this network"; 0.0.0.0 reaches this machine
  {0x0A000000, 8},  // 10/8
  {0x64400000, 10}, // 100.64/10: carrier-grade NAT
  {0x7F000000, 8},  // 127/8: loopback
  {0xA9FE0000, 16}, // 169.254/16: link-local, cloud metadata
  {0xAC100000, 12}, // 172.16/12
  {0xC0A80000, 16}, // 192.168/16
  {0xC0000000, 24}, // 192.0.0/24: IETF protocol assignments
  {0xC0000200, 24}, // 192.0.2/24, 198.51.100/24, 203.0.113/24: TEST-NETs,
  {0xC6336400, 24}, // never routed to anyone's server on the internet
  {0xCB007100, 24},
  {0xC6120000, 15}, // 198.18/15: benchmarking
  {0xE0000000, 3},  // 224/4 multicast, 240/4 reserved, 255.255.255.255
};

bool in_range(uint32_t address, const ipv4_range& r) {
  uint32_t mask = r.bits == 0 ? 0 : ~uint32_t{0} << (32 - r.bits);
  return (address & mask) == r.prefix;
}

uint32_t ipv4_at(const std::array<uint8_t, 16>& a, size_t at) {
  return uint32_t{a[at]} << 24 | uint32_t{a[at + 1]} << 16
         | uint32_t{a[at + 2]} << 8 | uint32_t{a[at + 3]};
}

bool zero_bytes(const std::array<uint8_t, 16>& a, size_t from, size_t to) {
  return std::all_of(a.begin() + static_cast<long>(from),
                     a.begin() + static_cast<long>(to),
                     [](uint8_t b) { return b == 0; });
}

/// Whether the last label (one trailing dot ignored) is a number, decimal
/// or 0x-hex: then curl, getaddrinfo and browsers (the WHATWG URL standard)
/// all read the host as an IPv4 address, whatever its other labels say.
bool ends_in_a_number(std::string_view host) {
  auto dot = host.rfind('.');
  auto last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (last.empty()) {
    return false;
  }
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  if (std::all_of(last.begin(), last.end(), is_digit)) {
    return true;
  }
  if (last.size() >= 2 && last[0] == '0'
      && (last[1] == 'x' || last[1] == 'X')) {
    return std::all_of(last.begin() + 2, last.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) != 0;
    });
  }
  return false;
}

bool is_local_name(std::string_view lower) {
  constexpr std::string_view local = "localhost";
  constexpr std::string_view suffix = ".localhost";
  return lower == local
         || (lower.size() > suffix.size()
             && lower.substr(lower.size() - suffix.size()) == suffix);
}

} // namespace

bool is_public_ipv4(uint32_t address) {
  return std::none_of(
    std::begin(non_public_ipv4), std::end(non_public_ipv4),
    [&](const ipv4_range& r) { return in_range(address, r); });
}

bool is_public_ipv6(const std::array<uint8_t, 16>& a) {
  if (zero_bytes(a, 0, 12)) {
    return false; // ::, ::1 and ::a.b.c.d
  }
  if (zero_bytes(a, 0, 10) && a[10] == 0xff && a[11] == 0xff) {
    return is_public_ipv4(ipv4_at(a, 12)); // ::ffff:a.b.c.d
  }
  if (zero_bytes(a, 0, 8) && a[8] == 0xff && a[9] == 0xff && a[10] == 0
      && a[11] == 0) {
    return is_public_ipv4(ipv4_at(a, 12)); // ::ffff:0:a.b.c.d (translated)
  }
  if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b
      && zero_bytes(a, 4, 12)) {
    return is_public_ipv4(ipv4_at(a, 12)); // NAT64 64:ff9b::a.b.c.d
  }
  if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b
      && a[4] == 0x00 && a[5] == 0x01) {
    return false; // 64:ff9b:1::/48, local-use NAT64: to the site's own IPv4
  }
  if (a[0] == 0x20 && a[1] == 0x01 && (a[2] == 0x00 && a[3] == 0x00)) {
    return false; // 2001::/32, Teredo: a tunnel to wherever it says
  }
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) {
    return false; // 2001:db8::/32, documentation
  }
  if (a[0] == 0x01 && a[1] == 0x00 && zero_bytes(a, 2, 8)) {
    return false; // 100::/64, discard
  }
  if (a[0] == 0x20 && a[1] == 0x02) {
    return is_public_ipv4(ipv4_at(a, 2)); // 6to4 2002:aabb:ccdd::
  }
  bool link_local = a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
  bool site_local = a[0] == 0xfe && (a[1] & 0xc0) == 0xc0;
  bool unique_local = (a[0] & 0xfe) == 0xfc;
  bool multicast = a[0] == 0xff;
  return !(link_local || site_local || unique_local || multicast);
}

bool is_public_address(const sockaddr* address) {
  if (address == nullptr) {
    return false;
  }
  if (address->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof(in));
    return is_public_ipv4(ntohl(in.sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof(in6));
    std::array<uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &in6.sin6_addr, bytes.size());
    return is_public_ipv6(bytes);
  }
  return false;
}

std::string address_text(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (address != nullptr && address->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof(in));
    if (inet_ntop(AF_INET, &in.sin_addr, text, sizeof(text)) != nullptr) {
      return text;
    }
  } else if (address != nullptr && address->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof(in6));
    if (inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof(text)) != nullptr) {
      return text;
    }
  }
  return {};
}

host_verdict judge_host(std::string_view host) {
  std::string lower{host};
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  if (!lower.empty() && lower.back() == '.') {
    lower.pop_back(); // "localhost." and "127.0.0.1." name the same host
  }
  if (lower.find(':') != std::string::npos) { // only IPv6 literals have one
    std::array<uint8_t, 16> bytes{};
    if (inet_pton(AF_INET6, lower.c_str(), bytes.data()) != 1) {
      return host_verdict::malformed_ipv6;
    }
    return is_public_ipv6(bytes) ? host_verdict::allowed
                                 : host_verdict::private_address;
  }
  if (ends_in_a_number(lower)) {
    // inet_pton takes exactly four decimal numbers of 0..255 without
    // leading zeros, unlike inet_aton (which curl's resolver reaches).
    in_addr v4{};
    if (inet_pton(AF_INET, lower.c_str(), &v4) != 1) {
      return host_verdict::non_canonical_ipv4;
    }
    return is_public_ipv4(ntohl(v4.s_addr)) ? host_verdict::allowed
                                            : host_verdict::private_address;
  }
  return is_local_name(lower) ? host_verdict::local_name
                              : host_verdict::allowed;
}

} // namespace psp::http_client
