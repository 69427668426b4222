// ChangeFeed over LISTEN/NOTIFY: one channel every instance listens on, a JSON payload naming
// the instance that sent it. The listening connection lives on a thread of its own that
// polls its socket and a wake-up descriptor; a lost connection is retried with a growing
// delay (up to 2 s), and TCP keepalives notice a store that vanished without closing.
// Publishing uses a second connection: libpq connections are not shared between threads.
#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <mutex>
#include <thread>

#include "common/thread_name.h"
#include "store/change_feed.h"
#include "store/postgres_support.h"

namespace portcullis::store {
namespace {

constexpr const char* kChannel = "portcullis_changes";
// PostgreSQL refuses a payload of 8000 bytes or more.
constexpr std::size_t kMaxPayload = 7900;
constexpr std::chrono::milliseconds kFirstRetry{100};
constexpr std::chrono::milliseconds kLongestRetry{2000};

bool known_kind(std::string_view kind) {
  return kind == "review" || kind == "revoke" || kind == "kill" || kind == "reload";
}

class PostgresChangeFeed final : public ChangeFeed {
 public:
  PostgresChangeFeed(std::string url, std::string instance, Handler on_change, Resync on_resync)
      : url_(std::move(url)),
        instance_(std::move(instance)),
        on_change_(std::move(on_change)),
        on_resync_(std::move(on_resync)),
        wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

  ~PostgresChangeFeed() override {
    stopping_.store(true);
    const std::uint64_t one = 1;
    if (wake_fd_ >= 0) (void)::write(wake_fd_, &one, sizeof one);
    if (thread_.joinable()) thread_.join();
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  Result<void> start() {
    if (wake_fd_ < 0) return make_error("change feed: cannot make an eventfd");
    thread_ = std::thread([this] {
      name_this_thread("change feed");
      listen_loop();
    });
    return {};
  }

  Result<void> publish(std::string_view kind, std::string_view value) override {
    if (!known_kind(kind))
      return make_error("invalid", fmt::format("unknown change kind {}", kind));
    const std::string payload = boost::json::serialize(
        boost::json::object{{"instance", instance_}, {"kind", kind}, {"value", value}});
    if (payload.size() > kMaxPayload)
      return make_error("invalid", "change feed: the value is too long to carry");
    std::lock_guard lock(publish_mutex_);
    // One retry on a fresh connection: a NOTIFY is sent whole or not at all, so a connection
    // found broken on the first try cannot have delivered it.
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!publisher_ || PQstatus(publisher_.get()) != CONNECTION_OK) {
        auto connected = pg_connect(url_);
        if (!connected) return make_error("unavailable", connected.error().message);
        publisher_ = std::move(*connected);
      }
      const char* params[] = {kChannel, payload.c_str()};
      PgResult result(PQexecParams(publisher_.get(), "SELECT pg_notify($1, $2)", 2, nullptr, params,
                                   nullptr, nullptr, 0));
      if (PQresultStatus(result.get()) == PGRES_TUPLES_OK) return {};
      if (PQstatus(publisher_.get()) == CONNECTION_OK)
        return make_error("unavailable",
                          fmt::format("change feed: {}", PQerrorMessage(publisher_.get())));
      publisher_.reset();
    }
    return make_error("unavailable", "change feed: the state store cannot be reached");
  }

  bool listening() const override { return listening_.load(std::memory_order_acquire); }

 private:
  void listen_loop() {
    auto delay = kFirstRetry;
    while (!stopping_.load()) {
      PgConnection conn = open_listener();
      if (!conn) {
        wait_for(delay);
        delay = std::min(delay * 2, kLongestRetry);
        continue;
      }
      delay = kFirstRetry;
      listening_.store(true, std::memory_order_release);
      if (on_resync_) on_resync_();
      receive(conn.get());
      listening_.store(false, std::memory_order_release);
      if (!stopping_.load()) spdlog::warn("event=change_feed_disconnected");
    }
  }

  // A connection that listens on the channel, or null (the reason logged once per outage).
  PgConnection open_listener() {
    auto connected = pg_connect(url_);
    if (!connected) {
      if (!outage_logged_)
        spdlog::error("event=change_feed_unavailable error=\"{}\"", connected.error().message);
      outage_logged_ = true;
      return nullptr;
    }
    PgResult result(PQexec(connected->get(), fmt::format("LISTEN {}", kChannel).c_str()));
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      if (!outage_logged_)
        spdlog::error("event=change_feed_unavailable error=\"{}\"",
                      PQerrorMessage(connected->get()));
      outage_logged_ = true;
      return nullptr;
    }
    outage_logged_ = false;
    spdlog::info("event=change_feed_listening instance={:?}", instance_);
    return std::move(*connected);
  }

  // Delivers notifications until the connection fails or the feed stops.
  void receive(PGconn* conn) {
    while (!stopping_.load()) {
      pollfd fds[2] = {{PQsocket(conn), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      const int ready = ::poll(fds, 2, -1);
      if (ready < 0 && errno != EINTR) return;
      if (stopping_.load()) return;
      if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) == 0) continue;
      if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK) return;
      while (PGnotify* notify = PQnotifies(conn)) {
        deliver(notify->extra);
        PQfreemem(notify);
      }
    }
  }

  void deliver(std::string_view payload) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(payload, ec);
    if (ec || !value.is_object()) return;
    const auto& object = value.get_object();
    auto text = [&](const char* key) -> std::string {
      const auto* field = object.if_contains(key);
      return field != nullptr && field->is_string() ? std::string(field->get_string())
                                                    : std::string();
    };
    Change change{text("instance"), text("kind"), text("value")};
    if (change.instance == instance_ || !known_kind(change.kind)) return;
    if (on_change_) on_change_(change);
  }

  void wait_for(std::chrono::milliseconds delay) {
    pollfd fd{wake_fd_, POLLIN, 0};
    (void)::poll(&fd, 1, static_cast<int>(delay.count()));
  }

  const std::string url_;
  const std::string instance_;
  const Handler on_change_;
  const Resync on_resync_;
  const int wake_fd_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> listening_{false};
  bool outage_logged_ = false;  // the listening thread's
  std::mutex publish_mutex_;
  PgConnection publisher_;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<ChangeFeed>> open_change_feed(std::string_view url, std::string instance,
                                                     ChangeFeed::Handler on_change,
                                                     ChangeFeed::Resync on_resync) {
  if (!url.starts_with("postgresql://") && !url.starts_with("postgres://"))
    return std::unique_ptr<ChangeFeed>();
  auto feed = std::make_unique<PostgresChangeFeed>(std::string(url), std::move(instance),
                                                   std::move(on_change), std::move(on_resync));
  if (auto started = feed->start(); !started) return started.error();
  return std::unique_ptr<ChangeFeed>(std::move(feed));
}

}  // namespace portcullis::store
