#include "runtime/connect_probe.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>

namespace psp::recon {

namespace {

struct endpoint {
  std::string host;
  std::string port;
};

/// scheme://host[:port][/...], host possibly an [IPv6] literal.
endpoint endpoint_of(const std::string& url) {
  auto start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  auto authority = url.substr(start, url.find('/', start) - start);
  endpoint out{authority, url.rfind("https://", 0) == 0 ? "443" : "80"};
  auto close = authority.rfind(']');
  auto colon = authority.rfind(':');
  if (colon != std::string::npos
      && (close == std::string::npos || colon > close)) {
    out.host = authority.substr(0, colon);
    out.port = authority.substr(colon + 1);
  }
  if (out.host.size() >= 2 && out.host.front() == '[') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  return out;
}

/// strerror's text with a lower-case first letter, to sit inside a sentence.
std::string error_text(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) {
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  }
  return text;
}

/// 0 when connected within the timeout, else the errno (ETIMEDOUT when the
/// time ran out).
int try_connect(const addrinfo& a, uint32_t timeout_ms) {
  int fd = ::socket(a.ai_family, a.ai_socktype | SOCK_NONBLOCK, a.ai_protocol);
  if (fd < 0) {
    return errno;
  }
  int err = 0;
  if (::connect(fd, a.ai_addr, a.ai_addrlen) != 0) {
    err = errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int ready = ::poll(&p, 1, static_cast<int>(timeout_ms));
      socklen_t len = sizeof(err);
      if (ready <= 0) {
        err = ETIMEDOUT;
      } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        err = errno;
      }
    }
  }
  ::close(fd);
  return err;
}

} // namespace

std::string connect_failure(const std::string& url, uint32_t timeout_ms) {
  auto where = endpoint_of(url);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(where.host.c_str(), where.port.c_str(), &hints,
                         &found);
  if (rc != 0) {
    return "cannot resolve host '" + where.host + "' (" + gai_strerror(rc)
           + ")";
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned{found,
                                                            ::freeaddrinfo};
  int err = EHOSTUNREACH;
  for (auto* a = found; a != nullptr; a = a->ai_next) {
    err = try_connect(*a, timeout_ms);
    if (err == 0) {
      return "the connection failed, and a second try connected (a "
             "flapping service?)";
    }
  }
  if (err == ETIMEDOUT) {
    return "no connection to " + where.host + ":" + where.port + " within "
           + std::to_string(timeout_ms) + " ms";
  }
  return error_text(err) + " (" + where.host + ":" + where.port + ")";
}

} // namespace psp::recon
