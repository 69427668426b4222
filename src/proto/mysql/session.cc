// The life of one MySQL client connection: construction, the handshake deadline, the end of
// the session (kill, revoke, shutdown) and KILL QUERY from another connection. Start-up, the
// command path and the relay of answers have files of their own.
#include "proto/mysql/session.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "proto/mysql/error_codes.h"

namespace portcullis::proto::mysql {
namespace asio = boost::asio;
using net::use_nothrow;

namespace {

// A client that does not read cannot hold an ending session open.
constexpr auto kEndGrace = std::chrono::seconds(2);

std::string make_session_id() {
  unsigned char raw[8];
  RAND_bytes(raw, sizeof raw);
  return fmt::format("{:02x}", fmt::join(raw, raw + sizeof raw, ""));
}

}  // namespace

Session::Session(gateway::AcceptedConnection connection, std::shared_ptr<ThreadIds> thread_ids)
    : gate_(connection.socket.get_executor(), "mysql", std::move(connection.context),
            connection.context_source),
      thread_ids_(std::move(thread_ids)),
      handshake_listener_(std::move(connection.handshake_done)),
      loopback_listener_(connection.loopback_listener),
      in_process_(connection.in_process),
      id_(make_session_id()),
      started_(std::chrono::steady_clock::now()) {
  auto& socket = connection.socket;
  net::error_code ec;
  if (connection.in_process) {
    client_address_ = std::move(connection.client_address);
  } else {
    const auto remote = socket.remote_endpoint(ec);
    client_address_ =
        ec ? "unknown" : fmt::format("{}:{}", remote.address().to_string(), remote.port());
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
  }
  client_ = std::make_unique<PacketChannel>(std::make_shared<net::Stream>(std::move(socket)),
                                            gate_.context().config->limits.max_message_size);
  gate_.attach_recorder(id_, client_address_, &journal_error_text);
  thread_id_ = thread_ids_->allocate();
}

Session::~Session() {
  thread_ids_->remove(thread_id_);
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
      if (session->handshake_done_) return;
      spdlog::info("event=handshake_timeout session={} client={} timeout_ms={}", session->id_,
                   session->client_address_, timeout.count());
      session->client_->stream().close();
      if (session->backend_) session->backend_->stream().close();
    }
  });
  const bool ready = co_await handshake();
  handshake_done_ = true;
  if (handshake_listener_) handshake_listener_();
  deadline.cancel();
  if (ready && !ended_) co_await command_loop();

  gate_.close();
  if (!ended_) {
    client_->stream().close();
    if (backend_) backend_->stream().close();
  }
  if (gate_.is_open()) {
    const auto elapsed = std::chrono::steady_clock::now() - started_;
    gate_.recorder().disconnected(client_->bytes_in(), client_->bytes_out(), elapsed);
    spdlog::info(
        "event=session_end session={} subject={:?} connection={:?} duration_ms={} commands={} "
        "bytes_from_client={} bytes_to_client={}",
        id_, gate_.identity().subject, gate_.grant().connection->name,
        std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), gate_.commands(),
        client_->bytes_in(), client_->bytes_out());
  }
}

void Session::end(const gateway::Refusal& why) {
  if (ended_) return;
  ended_ = true;
  gate_.interrupt();
  gate_.close();
  auto self = shared_from_this();
  // The error goes out as the answer the client waits for, or is read at its next command;
  // the sockets close after a short grace whether it got through or not.
  auto grace = std::make_shared<asio::steady_timer>(client_->stream().get_executor(), kEndGrace);
  // Held weakly: a session whose error was written ends at once (and leaves the live-session
  // list then, not when the grace is over).
  grace->async_wait([weak = std::weak_ptr<Session>(self), grace](const net::error_code&) {
    if (auto session = weak.lock()) {
      session->client_->stream().close();
      if (session->backend_) session->backend_->stream().close();
    }
  });
  if (backend_) backend_->stream().close();
  // An answer held for the journal was never sent: the error takes its place.
  if (answer_waits_for_journal_) client_->discard_queued(answer_first_sequence_);
  const auto code = error_code_of(why.reason);
  std::string packet;
  append_packet(packet,
                encode_err({.code = code.code,
                            .sql_state = std::string(code.sql_state),
                            .message = "portcullis: " + why.message}),
                client_->next_sequence());
  asio::co_spawn(
      client_->stream().get_executor(),
      [self, packet = std::move(packet)]() -> asio::awaitable<void> {
        // Never two writes at once: a client in the middle of an answer gets none.
        if (self->gate_.is_open() && !self->client_->flushing())
          co_await self->client_->stream().write(asio::buffer(packet));
        self->client_->stream().close();
      },
      asio::detached);
}

void Session::shut_down() {
  end({.reason = gateway::RefusalReason::session_ended,
       .rule = {},
       .message = "the gateway is shutting down"});
}

void Session::kill_query() {
  if (ended_ || !gate_.is_open()) return;
  if (gate_.holding()) {
    gate_.cancel_hold();
    return;
  }
  // The backend's own KILL QUERY, from a connection of its own with the same credentials
  // (a user may kill its own threads).
  BackendTarget target = backend_target_;
  const uint32_t backend_thread = backend_greeting_.thread_id;
  auto context = gate_.context_ptr();  // keeps the target's configuration alive
  const std::string session = id_;
  asio::co_spawn(
      client_->stream().get_executor(),
      [target, backend_thread, context, session]() -> asio::awaitable<void> {
        auto outcome = co_await connect_backend(target);
        auto* backend = std::get_if<BackendConnection>(&outcome);
        if (!backend) {
          spdlog::warn("event=kill_query_failed session={} reason={:?}", session,
                       std::get<BackendFailure>(outcome).message);
          co_return;
        }
        std::string query(1, static_cast<char>(CommandCode::query));
        query += fmt::format("KILL QUERY {}", backend_thread);
        backend->channel->set_next_sequence(0);
        backend->channel->queue(query);
        (void)co_await backend->channel->flush();
        (void)co_await backend->channel->read();
        backend->channel->set_next_sequence(0);
        backend->channel->queue(std::string(1, static_cast<char>(CommandCode::quit)));
        (void)co_await backend->channel->flush();
        backend->channel->stream().close();
      },
      asio::detached);
}

gateway::Caller Session::caller() const {
  static constexpr std::string_view kKinds[] = {"mysql"};
  return gateway::Caller{.protocol = "mysql",
                         .kinds = kKinds,
                         .session = id_,
                         .client_address = client_address_,
                         .encrypted = client_->stream_ptr()->is_tls() || in_process_,
                         .loopback_listener = loopback_listener_};
}

void Session::queue_error(uint16_t code, std::string_view sql_state, std::string_view message) {
  client_->queue(encode_err(
      {.code = code, .sql_state = std::string(sql_state), .message = std::string(message)}));
}

void Session::queue_refusal(const gateway::Refusal& refusal) {
  const auto code = error_code_of(refusal.reason);
  queue_error(code.code, code.sql_state, "portcullis: " + refusal.message);
}

void Session::queue_ok(uint16_t status_flags) {
  OkPacket ok;
  ok.status = status_flags;
  client_->queue(encode_ok(ok, capabilities_));
}

asio::awaitable<bool> Session::flush_client() {
  if (answer_waits_for_journal_) {
    // Nothing of the answer leaves before every pending record is durable; when one cannot
    // be written the answer is dropped whole and the client gets the journal's error.
    if (gate_.commits_pending() || gate_.commit_failed()) {
      if (auto failed = co_await gate_.wait_for_commits()) {
        end(*failed);
        co_return false;
      }
      if (ended_ || gate_.commits_pending()) co_return false;
    }
    answer_waits_for_journal_ = false;
  }
  auto sent = co_await client_->flush();
  co_return sent.ok();
}

}  // namespace portcullis::proto::mysql
