#pragma once

// A fault-injecting TCP proxy for the nodes' cluster ports, the C++ twin of
// examples/experiments/partition_proxy.mjs: one loopback listener per
// ordered pair "X dials Y" forwarding to Y's cluster port. cut(X) ends every
// connection of the pairs involving X and refuses new ones (accepted and
// closed at once) until heal(X). Blocking sockets, two threads per
// connection, a bound on connections per pair; stop() joins everything.

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace psp::test {

class partition_proxy {
public:
  partition_proxy() = default;
  ~partition_proxy();
  partition_proxy(const partition_proxy&) = delete;
  partition_proxy& operator=(const partition_proxy&) = delete;

  /// Listens on a free 127.0.0.1 port for `from` dialing `to` and forwards
  /// to 127.0.0.1:`target_port`. Returns the listener's port; throws
  /// std::runtime_error when it cannot listen.
  uint16_t add_pair(const std::string& from, const std::string& to,
                    uint16_t target_port);

  /// "to=127.0.0.1:port,..." for every pair `from` dials.
  std::string routes_for(const std::string& from) const;

  /// Cuts `node` off; returns the number of connections ended.
  size_t cut(const std::string& node);
  void heal(const std::string& node);

  /// Connections accepted and forwarded / refused while cut, over all pairs.
  size_t accepted() const;
  size_t refused() const;

  /// Closes the listeners and every connection and joins the threads.
  void stop();

private:
  struct link {
    int down = -1; ///< the dialer's connection
    int up = -1;   ///< ours to the target
  };
  struct pair_state {
    std::string from;
    std::string to;
    uint16_t target_port = 0;
    uint16_t port = 0;
    int listen_fd = -1;
    std::vector<std::shared_ptr<link>> links;
  };

  void accept_loop(pair_state* pair);
  bool blocked(const pair_state& pair) const; // with mu_ held
  void start_link(pair_state* pair, int down_fd);

  mutable std::mutex mu_;
  bool stopping_ = false;
  std::set<std::string> cut_;
  std::vector<std::unique_ptr<pair_state>> pairs_;
  std::vector<std::thread> threads_;
  std::vector<int> fds_; ///< every link socket, closed after the join
  size_t accepted_ = 0;
  size_t refused_ = 0;
};

} // namespace psp::test
