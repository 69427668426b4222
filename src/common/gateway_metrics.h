// GatewayMetrics: what the data path counts for /metrics — commands by verdict, how long the
// decision point took, values masked by detector. Written by sessions on every I/O thread with
// relaxed atomics (a counter add per command), read by the API's thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace portcullis {

class GatewayMetrics {
 public:
  // Verdicts a statement event can carry (INTERFACE.md), in the order they are exported.
  static constexpr std::array<std::string_view, 6> kVerdicts{
      "allow", "deny", "review_pending", "approved", "rejected", "expired"};
  // Upper bounds of the decision-latency histogram, in microseconds (+Inf implied).
  static constexpr std::array<std::uint64_t, 12> kLatencyBoundsUs{1,   2,   5,   10,   20,   50,
                                                                  100, 200, 500, 1000, 5000, 20000};

  void count_verdict(std::string_view verdict) {
    for (std::size_t i = 0; i < kVerdicts.size(); ++i)
      if (kVerdicts[i] == verdict) {
        verdicts_[i].fetch_add(1, std::memory_order_relaxed);
        return;
      }
  }

  void observe_decision(std::chrono::nanoseconds took) {
    const auto us = static_cast<std::uint64_t>(took.count() / 1000);
    std::size_t bucket = 0;
    while (bucket < kLatencyBoundsUs.size() && us > kLatencyBoundsUs[bucket]) ++bucket;
    buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
    latency_sum_ns_.fetch_add(static_cast<std::uint64_t>(took.count()), std::memory_order_relaxed);
  }

  // Per statement that masked anything: rare next to commands, so a lock is fine.
  void count_masked(const std::map<std::string, std::uint64_t>& by_detector) {
    if (by_detector.empty()) return;
    std::lock_guard lock(masked_mutex_);
    for (const auto& [detector, count] : by_detector) masked_[detector] += count;
  }

  std::uint64_t verdicts(std::size_t index) const {
    return verdicts_[index].load(std::memory_order_relaxed);
  }
  // Count in bucket `index` (kLatencyBoundsUs.size() is +Inf), not cumulative.
  std::uint64_t latency_bucket(std::size_t index) const {
    return buckets_[index].load(std::memory_order_relaxed);
  }
  double latency_sum_seconds() const {
    return static_cast<double>(latency_sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  }
  std::map<std::string, std::uint64_t> masked() const {
    std::lock_guard lock(masked_mutex_);
    return masked_;
  }

 private:
  std::array<std::atomic<std::uint64_t>, kVerdicts.size()> verdicts_{};
  std::array<std::atomic<std::uint64_t>, kLatencyBoundsUs.size() + 1> buckets_{};
  std::atomic<std::uint64_t> latency_sum_ns_{0};
  mutable std::mutex masked_mutex_;
  std::map<std::string, std::uint64_t> masked_;
};

}  // namespace portcullis
