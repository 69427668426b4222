// Starting and stopping the per-core event loops.
#include "net/io_threads.h"

#include <spdlog/spdlog.h>

#include <string>

#include "common/thread_name.h"

namespace portcullis::net {

IoThreads::IoThreads(std::size_t count) {
  if (count == 0) count = std::max(1u, std::thread::hardware_concurrency());
  for (std::size_t i = 0; i < count; ++i) {
    // Concurrency hint 1: each context is driven by exactly one thread, so Asio can skip
    // its internal locking.
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.emplace_back(contexts_.back()->get_executor());
  }
}

IoThreads::~IoThreads() {
  stop();
  join();
}

void IoThreads::start() {
  for (std::size_t i = 0; i < contexts_.size(); ++i) {
    threads_.emplace_back([&context = contexts_[i], i] {
      name_this_thread("io " + std::to_string(i));
      try {
        context->run();
      } catch (const std::exception& e) {
        // A handler escaped with an exception: a programming error. Log it and stop this
        // loop rather than terminate the process with sessions on other threads.
        spdlog::critical("event loop stopped by an unhandled exception: {}", e.what());
      }
    });
  }
}

void IoThreads::release() {
  guards_.clear();
}

void IoThreads::stop() {
  guards_.clear();
  for (auto& context : contexts_) context->stop();
}

void IoThreads::join() {
  for (auto& thread : threads_)
    if (thread.joinable()) thread.join();
  threads_.clear();
}

}  // namespace portcullis::net
