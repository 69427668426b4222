// AsyncLock: mutual exclusion between coroutines of one thread, for a socket that two
// coroutines write to (the relay and the gateway's own replies). Uncontended, it is a flag.
#pragma once

#include <algorithm>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/container/deque.hpp>
#include <memory>

#include "net/stream.h"

namespace portcullis::net {

class AsyncLock {
 public:
  explicit AsyncLock(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

  // Takes the lock if it is free (the usual case) without creating a coroutine frame.
  bool try_lock() {
    if (locked_) return false;
    locked_ = true;
    return true;
  }

  // Returns once the caller holds the lock. A wait that is cancelled (the coroutine is being
  // torn down) leaves the queue and throws, so a cancelled waiter never holds the lock.
  boost::asio::awaitable<void> lock() {
    if (!locked_) {
      locked_ = true;
      co_return;
    }
    auto waiter = std::make_shared<Waiter>(executor_);
    waiters_.push_back(waiter);
    // unlock() hands the lock over by marking the waiter granted and cancelling its timer.
    co_await waiter->timer.async_wait(use_nothrow);
    if (!waiter->granted) {
      waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), waiter), waiters_.end());
      throw boost::system::system_error(boost::asio::error::operation_aborted);
    }
  }

  void unlock() {
    if (waiters_.empty()) {
      locked_ = false;
      return;
    }
    auto next = std::move(waiters_.front());
    waiters_.pop_front();
    next->granted = true;
    next->timer.cancel();
  }

 private:
  struct Waiter {
    explicit Waiter(const boost::asio::any_io_executor& executor)
        : timer(executor, boost::asio::steady_timer::time_point::max()) {}
    boost::asio::steady_timer timer;
    bool granted = false;
  };

  boost::asio::any_io_executor executor_;
  bool locked_ = false;
  // Boost's deque allocates nothing until its first element (std::deque takes ~600 bytes at
  // once): every session holds one of these, mostly idle.
  boost::container::deque<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace portcullis::net
