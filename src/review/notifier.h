// Notifier: posts each review step to the configured webhooks, on a thread of its own.
//
// Why a thread of its own: the approval workflow calls notify() from the gateway's I/O
// threads and the API's thread, which must never wait for a chat service. notify() only
// queues; the thread's io_context does the posting, the retries and their timers. Each target
// has its own queue, delivered in order, one at a time: a dead or slow receiver holds up
// nothing but its own messages, and never more than one connection of the gateway's.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "config/config.h"
#include "review/notification.h"
#include "review/webhook_client.h"

namespace portcullis::review {

// Deliveries waiting or in progress for one target before further ones are dropped: days of
// reviews at a human pace, so reached only when a receiver has been down for long; bounds
// the memory a dead receiver can make the gateway hold.
inline constexpr std::size_t kMaxPendingPerTarget = 1000;

struct NotifierOptions {
  // The wait before the second attempt, doubled before each later one up to max_retry_delay.
  std::chrono::milliseconds first_retry_delay = std::chrono::seconds(1);
  std::chrono::milliseconds max_retry_delay = std::chrono::seconds(60);
  std::size_t max_pending_per_target = kMaxPendingPerTarget;
  // Trusted roots for https:// receivers; empty: the system's.
  std::filesystem::path ca_file;
};

// Counters since start, for /metrics.
struct NotifierStats {
  std::uint64_t delivered = 0;        // deliveries a receiver answered with 2xx
  std::uint64_t failed_attempts = 0;  // attempts that got no 2xx (each retry counts)
  std::uint64_t given_up = 0;         // deliveries that failed max_attempts times
  std::uint64_t dropped = 0;          // deliveries not queued: their target's queue was full
  std::size_t pending = 0;            // deliveries queued or in progress now
};

class Notifier {
 public:
  // Starts the thread. Throws std::runtime_error when the TLS trust store cannot be loaded
  // (a start-up configuration failure).
  explicit Notifier(NotifierOptions options = {});
  // Stops at once: deliveries still queued or in progress are abandoned (and counted in a
  // log line).
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // The webhooks later notifications go to; at start and on every configuration reload.
  // Deliveries already queued finish with the target they were queued for. A webhook whose
  // URL cannot be used is logged and left out.
  void set_targets(const std::vector<config::WebhookConfig>& webhooks);

  // Queues one delivery of `notification` per target and returns; never waits, never throws.
  void notify(Notification notification) noexcept;

  NotifierStats stats() const;

 private:
  struct Target;
  struct Delivery;
  using Targets = std::vector<std::shared_ptr<Target>>;

  void enqueue(const Notification& notification, const Targets& accepted);
  boost::asio::awaitable<void> drain(std::shared_ptr<Target> target);
  boost::asio::awaitable<void> deliver(const Target& target, const Delivery& delivery);
  std::chrono::milliseconds retry_delay(std::size_t failed_attempts) const;
  void finished(Target& target);

  const NotifierOptions options_;
  std::unique_ptr<WebhookClient> client_;
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> failed_attempts_{0};
  std::atomic<std::uint64_t> given_up_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::size_t> pending_{0};

  std::mutex reload_mutex_;  // one set_targets at a time
  mutable std::mutex targets_mutex_;
  std::shared_ptr<const Targets> targets_;  // replaced whole by set_targets

  // Declared after what its coroutines use, so that they are destroyed first.
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace portcullis::review
