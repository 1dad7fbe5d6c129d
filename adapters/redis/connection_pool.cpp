#include "adapters/redis/connection_pool.hpp"

#include <chrono>

namespace psp::redis {

connection_pool::connection_pool(endpoint ep, uint32_t timeout_ms,
                                 size_t size_max)
  : ep_(std::move(ep)), timeout_ms_(timeout_ms), size_max_(size_max) {
}

connection_pool::lease::~lease() {
  if (conn_) {
    pool_->give_back(std::move(conn_));
  }
}

void connection_pool::lease::reset() {
  if (conn_) {
    pool_->give_back(std::move(conn_));
  }
}

connection_pool::lease connection_pool::acquire() {
  std::unique_lock<std::mutex> guard{mtx_};
  auto deadline = std::chrono::steady_clock::now()
                  + std::chrono::milliseconds{timeout_ms_};
  while (idle_.empty() && open_ >= size_max_) {
    if (cv_.wait_until(guard, deadline) == std::cv_status::timeout) {
      break; // over the cap for a moment rather than fail the request
    }
  }
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return lease{this, std::move(conn)};
  }
  ++open_;
  return lease{this, std::make_unique<connection>(ep_, timeout_ms_)};
}

void connection_pool::give_back(std::unique_ptr<connection> conn) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (idle_.size() < size_max_) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  cv_.notify_one();
}

} // namespace psp::redis
