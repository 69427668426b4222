// LogThrottle: at most one line per interval for an event a peer can cause at will (refused
// connections, accept failures), so that a flood cannot fill the disk or drown other lines.
// The line that is written says how many were left out before it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace portcullis::net {

class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::steady_clock::duration interval = std::chrono::seconds(1))
      : interval_(interval.count()) {}

  // Whether to write the line now; then `suppressed` is how many were not written since the
  // last one. Safe from any thread.
  bool allow(std::size_t& suppressed,
             std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
    const int64_t at = now.time_since_epoch().count();
    int64_t last = last_.load(std::memory_order_relaxed);
    if (last != kNever && at - last < interval_) {
      skipped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (!last_.compare_exchange_strong(last, at, std::memory_order_relaxed)) {
      skipped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    suppressed = skipped_.exchange(0, std::memory_order_relaxed);
    return true;
  }

 private:
  static constexpr int64_t kNever = INT64_MIN;
  const int64_t interval_;
  std::atomic<int64_t> last_{kNever};
  std::atomic<std::size_t> skipped_{0};
};

}  // namespace portcullis::net
