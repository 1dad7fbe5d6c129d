#pragma once

// Connections for HTTP handler threads: leased one at a time, returned on
// scope exit, at most `size_max` open.

#include "adapters/redis/redis_connection.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace psp::redis {

class connection_pool {
public:
  connection_pool(endpoint ep, uint32_t timeout_ms, size_t size_max);

  class lease {
  public:
    lease(connection_pool* pool, std::unique_ptr<connection> conn)
      : pool_(pool), conn_(std::move(conn)) {
    }
    lease(lease&&) = default;
    ~lease();
    connection* operator->() { return conn_.get(); }
    connection& operator*() { return *conn_; }
    /// Gives the connection back early. A thread must never hold two
    /// leases: with every connection leased, it would wait on itself.
    void reset();

  private:
    connection_pool* pool_;
    std::unique_ptr<connection> conn_;
  };

  /// Waits (bounded by the connection timeout) for a free connection.
  lease acquire();

  const endpoint& where() const { return ep_; }

private:
  void give_back(std::unique_ptr<connection> conn);

  endpoint ep_;
  uint32_t timeout_ms_;
  size_t size_max_;
  size_t open_ = 0;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<connection>> idle_;
};

} // namespace psp::redis
