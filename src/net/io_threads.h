// Thread-per-core runtime: one io_context per thread, each with its own listeners
// (SO_REUSEPORT), so a session and its backend connection live on one thread, lock-free.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <thread>
#include <vector>

namespace portcullis::net {

class IoThreads {
 public:
  // `count` zero: one per core.
  explicit IoThreads(std::size_t count);
  ~IoThreads();
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  std::size_t size() const { return contexts_.size(); }
  boost::asio::io_context& context(std::size_t index) { return *contexts_[index]; }

  // Runs every context on its own thread until stop() or until no work is left.
  void start();
  // Lets the contexts finish when their remaining work is done (graceful).
  void release();
  // Stops every context at once.
  void stop();
  void join();

 private:
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<WorkGuard> guards_;
  std::vector<std::thread> threads_;
};

}  // namespace portcullis::net
