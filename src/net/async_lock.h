// AsyncLock: mutual exclusion between coroutines of one thread, for a socket that two
// coroutines write to (the relay and the gateway's own replies). Uncontended, it is a flag.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <memory>

#include "net/stream.h"

namespace portcullis::net {

class AsyncLock {
 public:
  explicit AsyncLock(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

  boost::asio::awaitable<void> lock() {
    if (!locked_) {
      locked_ = true;
      co_return;
    }
    auto waiter = std::make_shared<boost::asio::steady_timer>(
        executor_, boost::asio::steady_timer::time_point::max());
    waiters_.push_back(waiter);
    // unlock() hands the lock over by cancelling the waiter's timer.
    co_await waiter->async_wait(use_nothrow);
  }

  void unlock() {
    if (waiters_.empty()) {
      locked_ = false;
      return;
    }
    auto next = std::move(waiters_.front());
    waiters_.pop_front();
    next->cancel();
  }

 private:
  boost::asio::any_io_executor executor_;
  bool locked_ = false;
  std::deque<std::shared_ptr<boost::asio::steady_timer>> waiters_;
};

}  // namespace portcullis::net
