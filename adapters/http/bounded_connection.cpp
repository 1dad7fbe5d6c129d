#include "adapters/http/bounded_connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace psp::http {

namespace {

thread_local bool close_requested = false;

/// How often an idle connection looks whether the server is stopping.
constexpr int idle_poll_ms = 100;
constexpr size_t read_buffer_size = 4096;

/// poll() for `events` up to `timeout_ms`, again after a signal; > 0 ready.
int wait_for(int sock, short events, int timeout_ms) {
  pollfd p{sock, events, 0};
  int n = 0;
  do {
    n = ::poll(&p, 1, timeout_ms);
  } while (n < 0 && errno == EINTR);
  return n;
}

void address_of(const sockaddr_storage& addr, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    auto& a = reinterpret_cast<const sockaddr_in&>(addr);
    ::inet_ntop(AF_INET, &a.sin_addr, text, sizeof(text));
    port = ntohs(a.sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
    ::inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof(text));
    port = ntohs(a.sin6_port);
  }
  ip = text;
}

/// One connection's stream, kept across its requests (bytes a client sent
/// ahead stay buffered for the next request), reading at most
/// `request_bytes_max` per request.
class bounded_stream final : public httplib::Stream {
public:
  bounded_stream(int sock, const connection_limits& limits)
    : sock_(sock), limits_(limits) {}

  bool is_readable() const override {
    return has_buffered()
           || wait_for(sock_, POLLIN, static_cast<int>(limits_.read_timeout_ms))
                > 0;
  }

  bool is_writable() const override {
    return wait_for(sock_, POLLOUT,
                    static_cast<int>(limits_.write_timeout_ms)) > 0;
  }

  ssize_t read(char* ptr, size_t size) override {
    if (read_this_request_ >= limits_.request_bytes_max) {
      over_limit_ = true;
      return -1;
    }
    size = std::min(size, limits_.request_bytes_max - read_this_request_);
    if (!has_buffered()) {
      if (!is_readable()) {
        return -1;
      }
      ssize_t n = 0;
      do {
        n = ::recv(sock_, buffer_.data(), buffer_.size(), 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) {
        return n;
      }
      begin_ = 0;
      end_ = static_cast<size_t>(n);
    }
    auto n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buffer_.data() + begin_, n);
    begin_ += n;
    read_this_request_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) {
      return -1;
    }
    ssize_t n = 0;
    do {
      n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      address_of(addr, ip, port);
    }
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      address_of(addr, ip, port);
    }
  }

  socket_t socket() const override { return sock_; }

  bool has_buffered() const { return begin_ < end_; }
  bool over_limit() const { return over_limit_; }
  void next_request() { read_this_request_ = 0; }

private:
  int sock_;
  const connection_limits& limits_;
  std::array<char, read_buffer_size> buffer_{};
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t read_this_request_ = 0;
  bool over_limit_ = false;
};

/// Waits for the next request's first byte: true when there is one within
/// the keep-alive timeout and the server is not stopping.
bool next_request_arrives(const bounded_stream& strm, int sock,
                          const connection_limits& limits,
                          const std::function<bool()>& stopping) {
  if (strm.has_buffered()) {
    return true;
  }
  auto deadline = std::chrono::steady_clock::now()
                  + std::chrono::milliseconds{limits.keep_alive_timeout_ms};
  while (!stopping()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
    if (left <= 0) {
      return false;
    }
    auto ready = wait_for(sock, POLLIN,
                          static_cast<int>(std::min<int64_t>(left,
                                                             idle_poll_ms)));
    if (ready != 0) {
      return ready > 0; // data, or the client closed (recv will say so)
    }
  }
  return false;
}

} // namespace

void close_after_this_answer() {
  close_requested = true;
}

void serve_connection(
  int sock, const connection_limits& limits,
  const std::function<bool()>& stopping,
  const std::function<bool(httplib::Stream&, bool, bool&)>& serve_one) {
  bounded_stream strm{sock, limits};
  for (size_t left = limits.keep_alive_requests_max;
       left > 0 && next_request_arrives(strm, sock, limits, stopping); --left) {
    close_requested = false;
    strm.next_request();
    bool closed = false;
    bool served = serve_one(strm, left == 1, closed);
    bool close = close_requested || strm.over_limit();
    close_requested = false;
    if (!served || closed || close) {
      return;
    }
  }
}

} // namespace psp::http
