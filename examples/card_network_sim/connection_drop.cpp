#include "connection_drop.hpp"

#include <arpa/inet.h>
#include <cstdlib>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace psp::sim {

namespace {

// Renders a socket address as the ip text and port httplib reports.
bool describe(const sockaddr_storage& addr, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    auto& in = reinterpret_cast<const sockaddr_in&>(addr);
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof(text));
    port = ntohs(in.sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto& in6 = reinterpret_cast<const sockaddr_in6&>(addr);
    inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof(text));
    port = ntohs(in6.sin6_port);
  } else {
    return false;
  }
  ip = text;
  return true;
}

bool matches(int fd, const std::string& remote_addr, int remote_port,
             int local_port) {
  sockaddr_storage peer{};
  sockaddr_storage self{};
  socklen_t peer_len = sizeof(peer);
  socklen_t self_len = sizeof(self);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&self), &self_len) != 0) {
    return false;
  }
  std::string peer_ip;
  std::string self_ip;
  int peer_port = 0;
  int self_port = 0;
  return describe(peer, peer_ip, peer_port) &&
         describe(self, self_ip, self_port) && peer_ip == remote_addr &&
         peer_port == remote_port &&
         (local_port <= 0 || self_port == local_port);
}

} // namespace

bool drop_connection(const std::string& remote_addr, int remote_port,
                     int local_port) {
  // A TCP connection is unique by its address pair, so at most one
  // descriptor matches, and it cannot be closed while its handler runs.
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    return false;
  }
  bool dropped = false;
  while (auto* ent = readdir(dir)) {
    int fd = std::atoi(ent->d_name);
    if (fd > 2 && fd != dirfd(dir) &&
        matches(fd, remote_addr, remote_port, local_port)) {
      dropped = shutdown(fd, SHUT_RDWR) == 0;
      break;
    }
  }
  closedir(dir);
  return dropped;
}

} // namespace psp::sim
