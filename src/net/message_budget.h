// MessageBudget: one bound on the memory every session together may hold for large messages.
// limits.max_message_size bounds one message of one session; without a shared bound, a few
// hundred sessions each holding an unfinished message just under it would exhaust the host.
// Buffers of the usual relay size are not counted: they are bounded by the connection count.
#pragma once

#include <atomic>
#include <cstddef>

namespace portcullis::net {

class MessageBudget {
 public:
  explicit MessageBudget(std::size_t limit) : limit_(limit) {}
  MessageBudget(const MessageBudget&) = delete;
  MessageBudget& operator=(const MessageBudget&) = delete;

  // Takes `bytes` from the budget, or nothing (false) when they would overrun it.
  [[nodiscard]] bool try_take(std::size_t bytes) {
    std::size_t used = used_.load(std::memory_order_relaxed);
    for (;;) {
      const std::size_t limit = limit_.load(std::memory_order_relaxed);
      if (bytes > limit || used > limit - bytes) return false;
      if (used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed)) return true;
    }
  }
  void give_back(std::size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

  // A reload may change the limit: what is held stays held, new reservations see the new one.
  void set_limit(std::size_t limit) { limit_.store(limit, std::memory_order_relaxed); }
  std::size_t limit() const { return limit_.load(std::memory_order_relaxed); }
  std::size_t used() const { return used_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::size_t> limit_;
  std::atomic<std::size_t> used_{0};
};

}  // namespace portcullis::net
