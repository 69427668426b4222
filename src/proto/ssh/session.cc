// The life of one SSH client connection: the key exchange under the handshake deadline, the
// pump that drives libssh on both connections, and the end of the session.
#include "proto/ssh/session.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>

#include "net/stream.h"
#include "proto/ssh/forward_channel.h"
#include "proto/ssh/session_channel.h"

namespace portcullis::proto::ssh {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using net::use_nothrow;
using Waiter = asio::posix::stream_descriptor;

namespace {

std::string make_session_id() {
  unsigned char raw[8];
  RAND_bytes(raw, sizeof raw);
  return fmt::format("{:02x}", fmt::join(raw, raw + sizeof raw, ""));
}

// How a refusal reads in the journal's `error` field: the exit status the client got.
std::string journal_error_text(gateway::RefusalReason, std::string_view message) {
  return fmt::format("126: {}", message);
}

}  // namespace

Session::Session(gateway::AcceptedConnection connection, std::shared_ptr<HostKeys> host_keys)
    : gate_(connection.socket.get_executor(), "ssh", std::move(connection.context),
            connection.context_source),
      host_keys_(std::move(host_keys)),
      handshake_listener_(std::move(connection.handshake_done)),
      loopback_listener_(connection.loopback_listener),
      id_(make_session_id()),
      started_(std::chrono::steady_clock::now()),
      kick_(connection.socket.get_executor()) {
  auto& socket = connection.socket;
  if (connection.in_process) {
    // The MCP endpoint's own client on a socketpair's end: it has no TCP peer or options, and
    // the agent's address is the one it gave.
    client_address_ = std::move(connection.client_address);
  } else {
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    client_address_ =
        ec ? "unknown" : fmt::format("{}:{}", remote.address().to_string(), remote.port());
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
  }
  gate_.attach_recorder(id_, client_address_, &journal_error_text);

  client_.reset(ssh_new());
  const int duplicate = ::dup(socket.native_handle());
  if (client_ && duplicate >= 0) {
    client_waiter_ = std::make_unique<Waiter>(socket.get_executor(), duplicate);
    const int fd = socket.release();
    if (auto accepted = host_keys_->accept(client_.get(), fd); !accepted) {
      spdlog::warn("event=ssh_session_failed session={} reason={:?}", id_,
                   accepted.error().message);
      client_waiter_.reset();
      ::close(fd);
    }
  } else if (duplicate >= 0) {
    ::close(duplicate);
  }
}

Session::~Session() {
  // Channels and callbacks point into this session: libssh lets go of them first.
  if (target_) target_.reset();
  client_.reset();
}

bool Session::wants_write(ssh_session session) const {
  return (ssh_get_poll_flags(session) & SSH_WRITE_PENDING) != 0;
}

void Session::count_bytes(uint64_t in, uint64_t out) {
  bytes_in_ += in;
  bytes_out_ += out;
  if (in + out > 0) last_activity_ = std::chrono::steady_clock::now();
  if (auto* live = gate_.live()) {
    live->bytes_in += in;
    live->bytes_out += out;
  }
}

void Session::kick() {
  kicked_ = true;
  kick_.cancel();
}

void Session::wake_at(std::chrono::steady_clock::time_point when) {
  if (!wake_at_ || when < *wake_at_) wake_at_ = when;
}

asio::awaitable<bool> Session::key_exchange() {
  ssh_set_blocking(client_.get(), 0);
  int rc;
  while ((rc = ssh_handle_key_exchange(client_.get())) == SSH_AGAIN) {
    auto [ec] = co_await client_waiter_->async_wait(
        wants_write(client_.get()) ? Waiter::wait_write : Waiter::wait_read, use_nothrow);
    if (ec) co_return false;
  }
  if (rc != SSH_OK) {
    spdlog::info("event=ssh_handshake_failed session={} client={} reason={:?}", id_,
                 client_address_, ssh_get_error(client_.get()));
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> Session::run() {
  auto self = shared_from_this();
  if (!client_waiter_) {
    if (handshake_listener_) handshake_listener_();
    co_return;
  }
  const auto& limits = gate_.context().config->limits;
  auto executor = co_await asio::this_coro::executor;

  // Key exchange and login have one deadline: slow or silent clients do not hold a slot.
  asio::steady_timer deadline(executor);
  deadline.expires_after(limits.handshake_timeout);
  std::weak_ptr<Session> weak = self;
  deadline.async_wait([weak](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto session = weak.lock(); session && !session->logged_in_) {
      spdlog::info("event=handshake_timeout session={} client={}", session->id_,
                   session->client_address_);
      session->client_gone_ = true;
      boost::system::error_code ignored;
      session->client_waiter_->cancel(ignored);
      session->kick();
    }
  });

  // The callbacks are in place before the key exchange: a client that sends its service
  // request with its last key exchange message (one inside the process is that fast) has it
  // read during the exchange, and libssh queues a request that finds no callbacks where
  // nothing answers it.
  server_callbacks_.userdata = this;
  server_callbacks_.auth_pubkey_function = [](ssh_session, const char* user, ssh_key key,
                                              char state, void* self) {
    return static_cast<Session*>(self)->authenticate_public_key(user, key, state);
  };
  server_callbacks_.auth_password_function = [](ssh_session, const char* user, const char* password,
                                                void* self) {
    return static_cast<Session*>(self)->authenticate_password(user, password);
  };
  server_callbacks_.channel_open_request_session_function = [](ssh_session, void* self) {
    return static_cast<Session*>(self)->open_channel();
  };
  ssh_callbacks_init(&server_callbacks_);
  ssh_set_server_callbacks(client_.get(), &server_callbacks_);
  // Port forwards arrive as messages, which the server callbacks do not cover.
  ssh_set_message_callback(
      client_.get(),
      [](ssh_session, ssh_message message, void* self) {
        return static_cast<Session*>(self)->on_message(message);
      },
      this);
  ssh_set_auth_methods(client_.get(), SSH_AUTH_METHOD_PUBLICKEY | SSH_AUTH_METHOD_PASSWORD);
  if (co_await key_exchange()) {
    event_.reset(ssh_event_new());
    if (event_ && ssh_event_add_session(event_.get(), client_.get()) == SSH_OK) co_await pump();
  }
  if (!logged_in_ && handshake_listener_) {
    handshake_listener_();
    handshake_listener_ = nullptr;
  }
  deadline.cancel();

  gate_.close();
  for (auto& channel : channels_) finish_channel(*channel);
  for (auto& forward : forwards_) close_forward(*forward);
  if (event_) {
    if (target_) ssh_event_remove_session(event_.get(), target_->session());
    ssh_event_remove_session(event_.get(), client_.get());
  }
  if (target_) ssh_disconnect(target_->session());
  ssh_disconnect(client_.get());
  boost::system::error_code ignored;
  client_waiter_->close(ignored);
  if (gate_.is_open()) {
    const auto elapsed = std::chrono::steady_clock::now() - started_;
    gate_.recorder().disconnected(bytes_in_, bytes_out_, elapsed);
    spdlog::info(
        "event=session_end session={} subject={:?} connection={:?} duration_ms={} commands={}", id_,
        gate_.identity().subject, gate_.grant().connection->name,
        std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), gate_.commands());
  }
}

asio::awaitable<void> Session::pump() {
  while (!client_gone_) {
    service();
    if (ending_ && channels_.empty() && forwards_.empty()) break;
    if (kicked_) {
      kicked_ = false;
      // Whatever a callback or a decision changed is serviced before sleeping.
      ssh_event_dopoll(event_.get(), 0);
      continue;
    }
    kick_.expires_at(wake_at_.value_or(asio::steady_timer::time_point::max()));
    auto client_wait = client_waiter_->async_wait(
        wants_write(client_.get()) ? Waiter::wait_write : Waiter::wait_read, use_nothrow);
    if (target_ && !target_failed_) {
      auto target_wait = target_->waiter().async_wait(
          wants_write(target_->session()) ? Waiter::wait_write : Waiter::wait_read, use_nothrow);
      co_await (std::move(client_wait) || std::move(target_wait) || kick_.async_wait(use_nothrow));
    } else {
      co_await (std::move(client_wait) || kick_.async_wait(use_nothrow));
    }
    if (client_gone_) break;
    const int polled = ssh_event_dopoll(event_.get(), 0);
    // What the callbacks just noted is serviced at the top of the loop: no second poll.
    kicked_ = false;
    if (polled == SSH_ERROR || ssh_get_status(client_.get()) & (SSH_CLOSED | SSH_CLOSED_ERROR)) {
      client_gone_ = true;
      break;
    }
    if (target_ && !target_failed_ &&
        ssh_get_status(target_->session()) & (SSH_CLOSED | SSH_CLOSED_ERROR)) {
      target_failed_ = true;
      target_error_ = "the connection to the host closed";
      kick();
    }
  }
}

void Session::check_idle() {
  const auto timeout = gate_.context().config->limits.idle_timeout;
  if (timeout <= std::chrono::milliseconds::zero() || !gate_.is_open() || ending_) return;
  const auto now = std::chrono::steady_clock::now();
  // A command or a transfer that runs silently is busy, not idle; so is a decision in progress
  // or held for review. An interactive shell holds the session's turn all along: only a line
  // being decided makes it busy.
  const bool busy =
      gate_.holding() || std::any_of(channels_.begin(), channels_.end(), [](const auto& channel) {
        if (channel->shell) return channel->line_deciding;
        return channel->state != SessionChannel::State::waiting &&
               channel->state != SessionChannel::State::closed;
      });
  if (busy) {
    last_activity_ = now;
  } else if (now - last_activity_ >= timeout) {
    spdlog::info("event=idle_timeout session={} subject={:?}", id_, gate_.identity().subject);
    end({.reason = gateway::RefusalReason::session_ended,
         .rule = {},
         .message =
             fmt::format("the session ended after {} s idle (limits.idle_timeout)",
                         std::chrono::duration_cast<std::chrono::seconds>(timeout).count())});
    return;
  }
  wake_at(last_activity_ + timeout);
}

void Session::shut_down() {
  end({.reason = gateway::RefusalReason::session_ended,
       .rule = {},
       .message = "the gateway is shutting down"});
}

void Session::end(const gateway::Refusal& why) {
  if (ending_) return;
  ending_ = true;
  gate_.interrupt();
  if (!logged_in_ && client_waiter_) {
    // Still in the key exchange or login: stop waiting for the client.
    client_gone_ = true;
    boost::system::error_code ignored;
    client_waiter_->cancel(ignored);
  }
  for (auto& channel : channels_) {
    if (channel->state == SessionChannel::State::closed) continue;
    refuse_channel(*channel, why, 255);
  }
  for (auto& forward : forwards_) close_forward(*forward);
  kick();
}

}  // namespace portcullis::proto::ssh
