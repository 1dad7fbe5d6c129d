#include "tests/support/partition_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace psp::test {

namespace {

constexpr size_t links_per_pair_max = 64;

sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

/// Copies `from` to `to` until either side ends, then ends both.
void pump(int from, int to) {
  char buf[16 * 1024];
  for (;;) {
    auto n = ::read(from, buf, sizeof(buf));
    if (n <= 0) {
      break;
    }
    ssize_t off = 0;
    while (off < n) {
      auto w = ::send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
      if (w <= 0) {
        off = -1;
        break;
      }
      off += w;
    }
    if (off < 0) {
      break;
    }
  }
  ::shutdown(from, SHUT_RDWR);
  ::shutdown(to, SHUT_RDWR);
}

} // namespace

partition_proxy::~partition_proxy() {
  stop();
}

uint16_t partition_proxy::add_pair(const std::string& from,
                                   const std::string& to,
                                   uint16_t target_port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  auto addr = loopback(0);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0
      || ::listen(fd, 16) != 0) {
    ::close(fd);
    throw std::runtime_error("partition_proxy: cannot listen");
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto pair = std::make_unique<pair_state>();
  pair->from = from;
  pair->to = to;
  pair->target_port = target_port;
  pair->port = ntohs(addr.sin_port);
  pair->listen_fd = fd;
  std::lock_guard<std::mutex> guard{mu_};
  auto* raw = pair.get();
  pairs_.push_back(std::move(pair));
  threads_.emplace_back([this, raw] { accept_loop(raw); });
  return raw->port;
}

std::string partition_proxy::routes_for(const std::string& from) const {
  std::lock_guard<std::mutex> guard{mu_};
  std::string out;
  for (auto& p : pairs_) {
    if (p->from == from) {
      out += (out.empty() ? "" : ",") + p->to + "=127.0.0.1:"
             + std::to_string(p->port);
    }
  }
  return out;
}

bool partition_proxy::blocked(const pair_state& pair) const {
  return cut_.count(pair.from) > 0 || cut_.count(pair.to) > 0;
}

void partition_proxy::accept_loop(pair_state* pair) {
  for (;;) {
    int down = ::accept(pair->listen_fd, nullptr, nullptr);
    std::unique_lock<std::mutex> guard{mu_};
    if (stopping_) {
      if (down >= 0) {
        ::close(down);
      }
      return;
    }
    if (down < 0) {
      // EINTR, ECONNABORTED, EMFILE: the dialer retries; don't spin.
      guard.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
      continue;
    }
    if (blocked(*pair) || pair->links.size() >= links_per_pair_max) {
      ++refused_;
      ::close(down); // accepted and closed at once
      continue;
    }
    ++accepted_;
    start_link(pair, down);
  }
}

void partition_proxy::start_link(pair_state* pair, int down) {
  int up = ::socket(AF_INET, SOCK_STREAM, 0);
  auto addr = loopback(pair->target_port);
  if (::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(up);
    ::close(down); // the target is down: so is the route
    return;
  }
  int one = 1;
  ::setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ::setsockopt(down, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  auto l = std::make_shared<link>();
  l->down = down;
  l->up = up;
  // Ended links stay listed (their fds are closed at stop()): the bound on
  // links per pair also bounds what a test can leak.
  pair->links.push_back(l);
  fds_.push_back(down);
  fds_.push_back(up);
  threads_.emplace_back([down, up] { pump(down, up); });
  threads_.emplace_back([down, up] { pump(up, down); });
}

size_t partition_proxy::cut(const std::string& node) {
  std::lock_guard<std::mutex> guard{mu_};
  cut_.insert(node);
  size_t n = 0;
  for (auto& p : pairs_) {
    if (p->from != node && p->to != node) {
      continue;
    }
    for (auto& l : p->links) {
      ::shutdown(l->down, SHUT_RDWR);
      ::shutdown(l->up, SHUT_RDWR);
      ++n;
    }
    p->links.clear();
  }
  return n;
}

void partition_proxy::heal(const std::string& node) {
  std::lock_guard<std::mutex> guard{mu_};
  cut_.erase(node);
}

size_t partition_proxy::accepted() const {
  std::lock_guard<std::mutex> guard{mu_};
  return accepted_;
}

size_t partition_proxy::refused() const {
  std::lock_guard<std::mutex> guard{mu_};
  return refused_;
}

void partition_proxy::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> guard{mu_};
    if (stopping_) {
      return;
    }
    stopping_ = true;
    for (auto& p : pairs_) {
      ::shutdown(p->listen_fd, SHUT_RDWR); // wakes accept() on Linux
      for (auto& l : p->links) {
        ::shutdown(l->down, SHUT_RDWR);
        ::shutdown(l->up, SHUT_RDWR);
      }
    }
    for (int fd : fds_) {
      ::shutdown(fd, SHUT_RDWR);
    }
  }
  // Threads may still be added by an acceptor until it sees stopping_, so
  // join in rounds until none is left.
  for (;;) {
    {
      std::lock_guard<std::mutex> guard{mu_};
      threads.swap(threads_);
    }
    if (threads.empty()) {
      break;
    }
    for (auto& t : threads) {
      t.join();
    }
    threads.clear();
  }
  std::lock_guard<std::mutex> guard{mu_};
  for (auto& p : pairs_) {
    ::close(p->listen_fd);
  }
  for (int fd : fds_) {
    ::close(fd);
  }
  fds_.clear();
}

} // namespace psp::test
