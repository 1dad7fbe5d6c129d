// Goal: the webhook address policy refuses every address of the node's own
// network (loopback, private, link-local, reserved, in whatever form curl
// would also read it) and nothing on the public internet.

#include "adapters/http_client/address_policy.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <string>

namespace psp::http_client {
namespace {

uint32_t v4(const char* text) {
  in_addr a{};
  EXPECT_EQ(inet_pton(AF_INET, text, &a), 1) << text;
  return ntohl(a.s_addr);
}

std::array<uint8_t, 16> v6(const char* text) {
  std::array<uint8_t, 16> a{};
  EXPECT_EQ(inet_pton(AF_INET6, text, a.data()), 1) << text;
  return a;
}

const char* verdict_name(host_verdict v) {
  switch (v) {
    case host_verdict::allowed:
      return "allowed";
    case host_verdict::private_address:
      return "private_address";
    case host_verdict::local_name:
      return "local_name";
    case host_verdict::non_canonical_ipv4:
      return "non_canonical_ipv4";
    case host_verdict::malformed_ipv6:
      return "malformed_ipv6";
  }
  return "?";
}

TEST(address_policy, ipv4_ranges_of_the_local_network_are_not_public) {
  for (auto text :
       {"0.0.0.0", "0.255.255.255", "10.0.0.0", "10.255.255.255",
        "100.64.0.0", "100.127.255.255", "127.0.0.1", "127.255.255.254",
        "169.254.169.254", "169.254.0.1", "172.16.0.0", "172.31.255.255",
        "192.168.0.1", "192.168.255.255", "198.18.0.0", "198.19.255.255",
        "224.0.0.1", "239.255.255.255", "240.0.0.1", "255.255.255.255",
        "192.0.0.8", "192.0.2.1", "198.51.100.7", "203.0.113.255"}) {
    EXPECT_FALSE(is_public_ipv4(v4(text))) << text;
  }
}

TEST(address_policy, ipv4_just_outside_those_ranges_is_public) {
  for (auto text :
       {"1.0.0.0", "9.255.255.255", "11.0.0.0", "100.63.255.255",
        "100.128.0.0", "126.255.255.255", "128.0.0.0", "169.253.255.255",
        "169.255.0.0", "172.15.255.255", "172.32.0.0", "192.167.255.255",
        "192.169.0.0", "198.17.255.255", "198.20.0.0", "223.255.255.255",
        "8.8.8.8", "93.184.216.34", "192.0.1.255", "192.0.3.0",
        "198.51.99.255", "203.0.114.0"}) {
    EXPECT_TRUE(is_public_ipv4(v4(text))) << text;
  }
}

TEST(address_policy, ipv6_ranges_of_the_local_network_are_not_public) {
  for (auto text :
       {"::", "::1", "::127.0.0.1", "::8.8.8.8", "fe80::1",
        "febf:ffff::1", "fec0::1", "fc00::1", "fd12:3456::1",
        "ff02::1", "ff0e::1",
        // Judged by the IPv4 address they reach.
        "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254",
        "::ffff:0.0.0.0", "64:ff9b::127.0.0.1", "64:ff9b::192.168.1.1",
        "2002:7f00:1::", "2002:a9fe:a9fe::1",
        // Found by a re-test: translated, local-use NAT64, Teredo,
        // documentation and discard prefixes.
        "::ffff:0:127.0.0.1", "64:ff9b:1::7f00:1", "2001::", "2001:0:1::1",
        "2001:db8::1", "100::1"}) {
    EXPECT_FALSE(is_public_ipv6(v6(text))) << text;
  }
}

TEST(address_policy, public_ipv6_is_public) {
  for (auto text : {"2001:4860:4860::8888", "2a00:1450:4001::200e",
                    "fe7f::1", "fbff::1", "::ffff:8.8.8.8",
                    "64:ff9b::8.8.8.8", "2002:808:808::1",
                    "::ffff:0:8.8.8.8", "2001:1::1", "2001:db9::1"}) {
    EXPECT_TRUE(is_public_ipv6(v6(text))) << text;
  }
}

TEST(address_policy, socket_addresses_are_judged_by_family) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(v4("127.0.0.1"));
  EXPECT_FALSE(is_public_address(reinterpret_cast<sockaddr*>(&in)));
  EXPECT_EQ(address_text(reinterpret_cast<sockaddr*>(&in)), "127.0.0.1");
  in.sin_addr.s_addr = htonl(v4("8.8.4.4"));
  EXPECT_TRUE(is_public_address(reinterpret_cast<sockaddr*>(&in)));

  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  auto mapped = v6("::ffff:192.168.0.7");
  std::memcpy(&in6.sin6_addr, mapped.data(), mapped.size());
  EXPECT_FALSE(is_public_address(reinterpret_cast<sockaddr*>(&in6)));
  EXPECT_EQ(address_text(reinterpret_cast<sockaddr*>(&in6)),
            "::ffff:192.168.0.7");
  auto google = v6("2001:4860:4860::8844");
  std::memcpy(&in6.sin6_addr, google.data(), google.size());
  EXPECT_TRUE(is_public_address(reinterpret_cast<sockaddr*>(&in6)));

  sockaddr_storage unix_like{};
  unix_like.ss_family = AF_UNIX;
  EXPECT_FALSE(is_public_address(reinterpret_cast<sockaddr*>(&unix_like)));
  EXPECT_FALSE(is_public_address(nullptr));
}

TEST(address_policy, hosts_that_are_private_literals_or_local_names) {
  struct host_case {
    const char* host;
    host_verdict want;
  };
  for (auto c : {
         host_case{"127.0.0.1", host_verdict::private_address},
         host_case{"127.0.0.1.", host_verdict::private_address},
         host_case{"169.254.169.254", host_verdict::private_address},
         host_case{"10.0.0.5", host_verdict::private_address},
         host_case{"0.0.0.0", host_verdict::private_address},
         host_case{"255.255.255.255", host_verdict::private_address},
         host_case{"::1", host_verdict::private_address},
         host_case{"::", host_verdict::private_address},
         host_case{"FE80::1", host_verdict::private_address},
         host_case{"::ffff:127.0.0.1", host_verdict::private_address},
         host_case{"::FFFF:7f00:1", host_verdict::private_address},
         host_case{"localhost", host_verdict::local_name},
         host_case{"LocalHost", host_verdict::local_name},
         host_case{"localhost.", host_verdict::local_name},
         host_case{"api.localhost", host_verdict::local_name},
         host_case{"a.b.LOCALHOST.", host_verdict::local_name},
         // Forms inet_aton (and so curl and getaddrinfo) read as 127.0.0.1.
         host_case{"127.1", host_verdict::non_canonical_ipv4},
         host_case{"127.0.1", host_verdict::non_canonical_ipv4},
         host_case{"0x7f.0.0.1", host_verdict::non_canonical_ipv4},
         host_case{"0x7F000001", host_verdict::non_canonical_ipv4},
         host_case{"0177.0.0.1", host_verdict::non_canonical_ipv4},
         host_case{"127.0.0.01", host_verdict::non_canonical_ipv4},
         host_case{"2130706433", host_verdict::non_canonical_ipv4},
         host_case{"017700000001", host_verdict::non_canonical_ipv4},
         host_case{"0", host_verdict::non_canonical_ipv4},
         host_case{"1.2.3.4.5", host_verdict::non_canonical_ipv4},
         host_case{"256.0.0.1", host_verdict::non_canonical_ipv4},
         host_case{"hooks.example.0x1", host_verdict::non_canonical_ipv4},
         host_case{"1:2", host_verdict::malformed_ipv6},
         host_case{"::1::", host_verdict::malformed_ipv6},
       }) {
    EXPECT_STREQ(verdict_name(judge_host(c.host)), verdict_name(c.want))
      << c.host;
  }
}

TEST(address_policy, public_literals_and_names_are_allowed) {
  for (auto host :
       {"8.8.8.8", "93.184.216.34", "2001:4860:4860::8888",
        "::ffff:8.8.8.8", "hooks.example", "HOOKS.Example.",
        "localhost.example", "notlocalhost", "my-localhost.example", "127.0.0.1.nip.io",
        "0x7f.example", "bücher.example", "1e100.net"}) {
    EXPECT_STREQ(verdict_name(judge_host(host)),
                 verdict_name(host_verdict::allowed))
      << host;
  }
}

} // namespace
} // namespace psp::http_client
