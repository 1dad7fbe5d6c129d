#pragma once

// Where a merchant's webhook may send the node: only to the public internet.
// A webhook URL is the merchant's to choose, and the node POSTs from inside
// the operator's network, so a URL on loopback, a private range or the cloud
// metadata address would let a merchant reach what only the node should
// (server-side request forgery, decision 48). Judged twice: the URL's host
// when an endpoint is created or updated (an IP literal or a local name is
// refused at once), and every address the webhook client is about to
// connect to (a DNS name may resolve, or later rebind, to a private one).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

struct sockaddr;

namespace psp::http_client {

/// Whether an IPv4 address (host byte order) is on the public internet:
/// not 0/8, 10/8, 100.64/10 (carrier NAT), 127/8, 169.254/16 (link-local,
/// cloud metadata), 172.16/12, 192.168/16, 198.18/15 (benchmarking), nor
/// 224/4 and above (multicast, reserved, broadcast).
bool is_public_ipv4(uint32_t address);

/// Whether an IPv6 address (network byte order) is on the public internet:
/// not ::/96 (unspecified, loopback, the deprecated IPv4-compatible form),
/// fe80::/10 (link-local), fec0::/10 (former site-local), fc00::/7 (unique
/// local), ff00::/8 (multicast); an IPv4-mapped ::ffff:a.b.c.d or a NAT64
/// 64:ff9b::a.b.c.d is judged by its IPv4 address, which it reaches.
bool is_public_ipv6(const std::array<uint8_t, 16>& address);

/// is_public_ipv4 / is_public_ipv6 of a socket address; any other family is
/// not public.
bool is_public_address(const sockaddr* address);

/// A socket address as text ("127.0.0.1", "::1"); "" for other families.
std::string address_text(const sockaddr* address);

enum class host_verdict {
  /// A public IP literal, or a DNS name: its addresses are judged when the
  /// webhook client connects.
  allowed,
  /// An IP literal in a range is_public_ipv4/is_public_ipv6 refuse.
  private_address,
  /// localhost or a name under .localhost (RFC 6761: always this machine;
  /// curl answers them itself, without DNS).
  local_name,
  /// A host that curl and getaddrinfo read as an IPv4 address in a form
  /// other than four decimal numbers (127.1, 0x7f.0.0.1, 0177.0.0.1,
  /// 2130706433): refused rather than decoded, since decoders disagree.
  non_canonical_ipv4,
  /// A bracketed IPv6 literal that is not a valid IPv6 address.
  malformed_ipv6,
};

/// Judges a URL's host as written (an IPv6 literal without its brackets;
/// letters in any case; one trailing dot ignored).
host_verdict judge_host(std::string_view host);

} // namespace psp::http_client
