// The notifier's queues, attempts and backoff. Logs name a webhook by its `name` only: the
// URL of a Slack webhook (and of many others) is its credential.
#include "review/notifier.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <exception>
#include <stdexcept>
#include <string>

#include "common/thread_name.h"
#include "net/stream.h"
#include "review/webhook_payload.h"

namespace portcullis::review {
namespace {

namespace asio = boost::asio;
using net::use_nothrow;

bool same_webhook(const config::WebhookConfig& a, const config::WebhookConfig& b) {
  return a.name == b.name && a.url == b.url && a.format == b.format && a.timeout == b.timeout &&
         a.max_attempts == b.max_attempts;
}

// The name logs use. The loader falls back to the URL when a webhook has no name; the host
// says as much to an operator without the secret in the path.
std::string log_name(const config::WebhookConfig& webhook, const WebhookUrl& url) {
  if (webhook.name.empty() || webhook.name == webhook.url) return url.host;
  return webhook.name;
}

void log_crash(std::exception_ptr error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("event=webhook_crashed error=\"{}\"", e.what());
  }
}

}  // namespace

struct Notifier::Target {
  Target(config::WebhookConfig config, WebhookUrl url)
      : config(std::move(config)), url(std::move(url)), name(log_name(this->config, this->url)) {}

  const config::WebhookConfig config;
  const WebhookUrl url;
  const std::string name;
  // Queued or in progress: reserved by notify() on any thread, released by the drain.
  std::atomic<std::size_t> pending{0};
  // The notifier's thread only.
  std::deque<std::shared_ptr<const Delivery>> queue;
  bool draining = false;
};

struct Notifier::Delivery {
  std::string review_id;
  std::string step;                         // the notification's event
  std::shared_ptr<const std::string> body;  // shared by the targets of one format
};

Notifier::Notifier(NotifierOptions options)
    : options_(std::move(options)),
      targets_(std::make_shared<const Targets>()),
      work_(asio::make_work_guard(io_)) {
  auto client = WebhookClient::create(options_.ca_file);
  if (!client) throw std::runtime_error("notifications: " + client.error().message);
  client_ = std::move(*client);
  thread_ = std::thread([this] {
    name_this_thread("notifier");
    io_.run();
  });
}

Notifier::~Notifier() {
  // Pending retries may be minutes away and a receiver may be hanging: stop rather than wait.
  // What is left suspended in io_ is destroyed with it.
  io_.stop();
  if (thread_.joinable()) thread_.join();
  if (const std::size_t abandoned = pending_.load(); abandoned > 0)
    spdlog::warn("event=webhook_abandoned count={} reason=shutdown", abandoned);
}

void Notifier::set_targets(const std::vector<config::WebhookConfig>& webhooks) {
  // notify() takes targets_mutex_ only to copy the pointer: the list is built outside it.
  std::lock_guard reload(reload_mutex_);
  std::shared_ptr<const Targets> current;
  {
    std::lock_guard lock(targets_mutex_);
    current = targets_;
  }
  auto targets = std::make_shared<Targets>();
  for (const auto& webhook : webhooks) {
    // An unchanged webhook keeps its queue, so that a reload neither reorders nor duplicates
    // what is on its way.
    std::shared_ptr<Target> kept;
    for (const auto& old : *current)
      if (same_webhook(old->config, webhook)) kept = old;
    if (kept) {
      targets->push_back(std::move(kept));
      continue;
    }
    auto url = parse_webhook_url(webhook.url);
    if (!url) {
      spdlog::error("event=webhook_invalid webhook={:?} error=\"{}\"", webhook.name,
                    url.error().message);
      continue;
    }
    targets->push_back(std::make_shared<Target>(webhook, std::move(*url)));
  }
  spdlog::info("event=webhooks_configured count={}", targets->size());
  std::lock_guard lock(targets_mutex_);
  targets_ = std::move(targets);
}

void Notifier::notify(Notification notification) noexcept {
  Targets accepted;
  try {
    std::shared_ptr<const Targets> targets;
    {
      std::lock_guard lock(targets_mutex_);
      targets = targets_;
    }
    accepted.reserve(targets->size());
    for (const auto& target : *targets) {
      if (target->pending.fetch_add(1) >= options_.max_pending_per_target) {
        target->pending.fetch_sub(1);
        ++dropped_;
        spdlog::warn("event=webhook_dropped webhook={:?} review={} step={} reason=queue_full",
                     target->name, notification.review.id, notification.event);
        continue;
      }
      ++pending_;
      accepted.push_back(target);
    }
    if (accepted.empty()) return;
    asio::post(io_, [this, notification = std::move(notification), accepted]() {
      try {
        enqueue(notification, accepted);
      } catch (const std::exception& e) {
        // Out of memory: an exception must not end the notifier's thread.
        spdlog::error("event=webhook_crashed review={} error=\"{}\"", notification.review.id,
                      e.what());
      }
    });
  } catch (const std::exception& e) {
    // Out of memory, at worst: what was reserved is given back and counted as dropped.
    for (const auto& target : accepted) {
      target->pending.fetch_sub(1);
      --pending_;
      ++dropped_;
    }
    spdlog::error("event=webhook_dropped count={} error=\"{}\"", accepted.size(), e.what());
  }
}

void Notifier::enqueue(const Notification& notification, const Targets& accepted) {
  // Built here, not in notify(), to keep the caller's thread free of the work; once per
  // format, whatever the number of targets.
  std::shared_ptr<const std::string> generic, slack;
  for (const auto& target : accepted) {
    auto delivery = std::make_shared<Delivery>();
    delivery->review_id = notification.review.id;
    delivery->step = notification.event;
    try {
      if (target->config.format == config::WebhookFormat::slack) {
        if (!slack) slack = std::make_shared<const std::string>(slack_payload(notification));
        delivery->body = slack;
      } else {
        if (!generic) generic = std::make_shared<const std::string>(generic_payload(notification));
        delivery->body = generic;
      }
    } catch (const std::exception& e) {
      spdlog::error("event=webhook_failed webhook={:?} review={} error=\"{}\"", target->name,
                    delivery->review_id, e.what());
      ++given_up_;
      finished(*target);
      continue;
    }
    target->queue.push_back(std::move(delivery));
    if (!target->draining) {
      target->draining = true;
      asio::co_spawn(io_, drain(target), log_crash);
    }
  }
}

asio::awaitable<void> Notifier::drain(std::shared_ptr<Target> target) {
  while (!target->queue.empty()) {
    const std::shared_ptr<const Delivery> delivery = std::move(target->queue.front());
    target->queue.pop_front();
    try {
      co_await deliver(*target, *delivery);
    } catch (const std::exception& e) {
      ++given_up_;
      spdlog::error("event=webhook_failed webhook={:?} review={} error=\"{}\"", target->name,
                    delivery->review_id, e.what());
    }
    finished(*target);
  }
  target->draining = false;
}

asio::awaitable<void> Notifier::deliver(const Target& target, const Delivery& delivery) {
  const std::size_t max_attempts = std::max<std::size_t>(1, target.config.max_attempts);
  for (std::size_t attempt = 1;; ++attempt) {
    auto status = co_await client_->post(target.url, *delivery.body, target.config.timeout);
    if (status && *status >= 200 && *status < 300) {
      ++delivered_;
      spdlog::info("event=webhook_delivered webhook={:?} review={} step={} attempt={} status={}",
                   target.name, delivery.review_id, delivery.step, attempt, *status);
      co_return;
    }
    ++failed_attempts_;
    const std::string error = status ? fmt::format("HTTP {}", *status) : status.error().message;
    if (attempt >= max_attempts) {
      ++given_up_;
      spdlog::error("event=webhook_failed webhook={:?} review={} step={} attempts={} error=\"{}\"",
                    target.name, delivery.review_id, delivery.step, attempt, error);
      co_return;
    }
    const auto delay = retry_delay(attempt);
    spdlog::warn(
        "event=webhook_retry webhook={:?} review={} step={} attempt={} error=\"{}\" "
        "retry_in_ms={}",
        target.name, delivery.review_id, delivery.step, attempt, error, delay.count());
    asio::steady_timer timer(io_, delay);
    co_await timer.async_wait(use_nothrow);
  }
}

std::chrono::milliseconds Notifier::retry_delay(std::size_t failed_attempts) const {
  auto delay = options_.first_retry_delay;
  for (std::size_t i = 1; i < failed_attempts && delay < options_.max_retry_delay; ++i) delay *= 2;
  return std::min(delay, options_.max_retry_delay);
}

void Notifier::finished(Target& target) {
  target.pending.fetch_sub(1);
  --pending_;
}

NotifierStats Notifier::stats() const {
  NotifierStats stats;
  stats.delivered = delivered_.load();
  stats.failed_attempts = failed_attempts_.load();
  stats.given_up = given_up_.load();
  stats.dropped = dropped_.load();
  stats.pending = pending_.load();
  return stats;
}

}  // namespace portcullis::review
