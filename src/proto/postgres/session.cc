// The life of one PostgreSQL client connection: construction, the relay's two pumps run
// together, termination, the idle watchdog and cancel requests. Startup, the pumps, the
// command path and result masking have files of their own.
#include "proto/postgres/session.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "proto/postgres/refusal_codes.h"
#include "proto/postgres/session_support.h"

namespace portcullis::proto::postgres {
using namespace asio::experimental::awaitable_operators;
using net::use_nothrow;

namespace {

std::string make_session_id() {
  unsigned char raw[8];
  RAND_bytes(raw, sizeof raw);
  return fmt::format("{:02x}", fmt::join(raw, raw + sizeof raw, ""));
}

}  // namespace

Session::Session(gateway::AcceptedConnection connection, std::shared_ptr<CancelRegistry> cancels,
                 std::shared_ptr<StatementClassifier> classifier)
    : gate_(connection.socket.get_executor(), "postgres", std::move(connection.context),
            connection.context_source),
      cancels_(std::move(cancels)),
      classifier_(std::move(classifier)),
      loopback_listener_(connection.loopback_listener),
      in_process_(connection.in_process),
      id_(make_session_id()),
      started_(std::chrono::steady_clock::now()),
      client_write_lock_(connection.socket.get_executor()),
      backend_progress_(connection.socket.get_executor()),
      handshake_listener_(std::move(connection.handshake_done)),
      message_budget_(std::move(connection.message_budget)) {
  auto& client = connection.socket;
  net::error_code ec;
  if (connection.in_process) {
    client_address_ = std::move(connection.client_address);
  } else {
    const auto remote = client.remote_endpoint(ec);
    client_address_ =
        ec ? "unknown" : fmt::format("{}:{}", remote.address().to_string(), remote.port());
    client.set_option(asio::ip::tcp::no_delay(true), ec);
  }
  client_ = std::make_shared<net::Stream>(std::move(client));
  last_client_activity_ = started_;
  gate_.attach_recorder(id_, client_address_, &journal_error_text);
}

Session::~Session() {
  if (gateway_key_) cancels_->remove(gateway_key_->process_id);
}

asio::awaitable<void> Session::run() {
  auto self = shared_from_this();
  const auto& limits = gate_.context().config->limits;
  auto executor = co_await asio::this_coro::executor;

  // The whole handshake has one deadline: slow or silent clients do not hold a slot.
  asio::steady_timer deadline(executor);
  deadline.expires_after(limits.handshake_timeout);
  std::weak_ptr<Session> weak = self;
  deadline.async_wait([weak, timeout = limits.handshake_timeout](const net::error_code& ec) {
    if (ec) return;
    if (auto session = weak.lock()) {
      // The expiry may have been queued just as the handshake finished.
      if (session->handshake_done_) return;
      spdlog::info("event=handshake_timeout session={} client={} timeout_ms={}", session->id_,
                   session->client_address_, timeout.count());
      session->client_->close();
      if (session->backend_) session->backend_->close();
    }
  });
  const bool ready = co_await handshake();
  handshake_done_ = true;
  if (handshake_listener_) handshake_listener_();
  deadline.cancel();
  if (ready && !terminated_) co_await relay();

  tables_.close();
  estimator_.close();
  gate_.close();
  // A terminated session closes its sockets once its last error is written (terminate()).
  if (!terminated_) {
    client_->close();
    if (backend_) backend_->close();
  }
  if (gate_.is_open()) {
    const auto elapsed = std::chrono::steady_clock::now() - started_;
    gate_.recorder().disconnected(bytes_from_client_, bytes_to_client_, elapsed);
    spdlog::info(
        "event=session_end session={} subject={:?} connection={:?} duration_ms={} commands={} "
        "bytes_from_client={} bytes_to_client={}",
        id_, gate_.identity().subject, gate_.grant().connection->name,
        std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), gate_.commands(),
        bytes_from_client_, bytes_to_client_);
  }
}

void Session::terminate(std::string_view sqlstate, std::string message) {
  if (terminated_) return;
  terminated_ = true;
  backend_progress_.cancel();
  gate_.close();
  auto self = shared_from_this();
  // A client that does not read cannot hold the session (or a shutdown) open: the sockets
  // are closed after a short grace whether the error got through or not.
  // The timer holds the session weakly: a session whose error was written ends at once (and
  // leaves the live-session list then, not when the grace is over).
  auto grace = std::make_shared<asio::steady_timer>(client_->get_executor(), kTerminateGrace);
  grace->async_wait([weak = std::weak_ptr<Session>(self), grace](const net::error_code&) {
    if (auto session = weak.lock()) {
      session->client_->close();
      if (session->backend_) session->backend_->close();
    }
  });
  asio::co_spawn(
      client_->get_executor(),
      [self,
       bytes = error_response(sqlstate, message, Severity::fatal)]() -> asio::awaitable<void> {
        if (self->gate_.is_open()) {
          // Only once the session is past its handshake does the client expect messages.
          co_await self->write_to_client(bytes);
        }
        self->client_->close();
        if (self->backend_) self->backend_->close();
      },
      asio::detached);
}

void Session::shut_down() {
  terminate(kSqlAdminShutdown,
            "portcullis: terminating connection because the gateway is shutting down");
}

gateway::Caller Session::caller() const {
  static constexpr std::string_view kKinds[] = {"postgres"};
  return gateway::Caller{.protocol = "postgres",
                         .kinds = kKinds,
                         .session = id_,
                         .client_address = client_address_,
                         .encrypted = client_->is_tls() || in_process_,
                         .loopback_listener = loopback_listener_};
}

asio::awaitable<void> Session::write_to_client(std::string bytes) {
  if (!client_write_lock_.try_lock()) co_await client_write_lock_.lock();
  auto [ec, n] = co_await client_->write(asio::buffer(bytes));
  client_write_lock_.unlock();
  if (!ec) bytes_to_client_ += n;
}

asio::awaitable<void> Session::fail(std::string_view sqlstate, std::string message) {
  co_await write_to_client(error_response(sqlstate, message, Severity::fatal));
  client_->close();
}

asio::awaitable<void> Session::fail(const gateway::Refusal& refusal) {
  co_await fail(sqlstate_of(refusal.reason), "portcullis: " + refusal.message);
}

asio::awaitable<void> Session::handle_cancel(const CancelRequest& request) {
  const auto target = cancels_->find(request);
  if (!target) {
    // As PostgreSQL: no answer either way, so a guesser learns nothing.
    spdlog::info("event=cancel_unknown client={}", client_address_);
    co_return;
  }
  spdlog::info("event=cancel client={} backend={}:{}", client_address_, target->host, target->port);
  if (target->interrupt) target->interrupt();
  co_await send_backend_cancel(target->host, target->port, target->backend_key);
}

asio::awaitable<void> Session::relay() {
  if (gate_.context().config->limits.idle_timeout > std::chrono::milliseconds::zero()) {
    co_await (pump_client_to_backend() || pump_backend_to_client() || idle_watchdog());
  } else {
    co_await (pump_client_to_backend() || pump_backend_to_client());
  }
}

asio::awaitable<void> Session::idle_watchdog() {
  const auto timeout = gate_.context().config->limits.idle_timeout;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    const auto idle_since = last_client_activity_;
    if (now - idle_since >= timeout && sync_points_.empty() && transaction_status_ == 'I' &&
        !gate_.holding()) {
      spdlog::info("event=idle_timeout session={} subject={:?}", id_, gate_.identity().subject);
      co_await write_to_client(error_response(
          kSqlIdleSessionTimeout,
          fmt::format("portcullis: terminating connection after {} ms idle (limits.idle_timeout)",
                      timeout.count()),
          Severity::fatal));
      co_return;
    }
    timer.expires_at(std::max(idle_since + timeout, now + std::chrono::milliseconds(100)));
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec) co_return;
  }
}

}  // namespace portcullis::proto::postgres
