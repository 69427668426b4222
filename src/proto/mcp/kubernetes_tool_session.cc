// The kubernetes tool's in-process HTTPS client of the gateway's Kubernetes front end.
#include "proto/mcp/kubernetes_tool_session.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <cstring>

#include "net/async_lock.h"
#include "net/stream.h"

namespace portcullis::proto::mcp {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using net::use_nothrow;
using Clock = std::chrono::steady_clock;

namespace {

// The front end closes a connection idle for 120 s (kIdleTimeout in
// src/proto/kubernetes/session.cc). One idle longer than this is replaced before it is used,
// so that a connection closing under an idle client always means the gateway ended its
// session (kill, revoke, expired access, the gateway stopping).
constexpr std::chrono::seconds kIdleReconnect{90};
// A watch or a followed log never ends by itself: a body not whole this long after the
// response's head is cut off there, and the answer is marked truncated.
constexpr std::chrono::seconds kBodyTimeout{60};

using TlsStream = asio::ssl::stream<asio::local::stream_protocol::socket>;

ToolError closed_error(std::string message) {
  return ToolError{.code = {}, .message = std::move(message), .detail = {}};
}

}  // namespace

struct KubernetesToolSession::State {
  State(asio::any_io_executor executor, Adopt adopt, std::string client_address, HoldProbe held)
      : executor(executor),
        adopt(std::move(adopt)),
        client_address(std::move(client_address)),
        held(std::move(held)),
        tls(asio::ssl::context::tls_client),
        busy(executor) {
    // Both ends are this process, and the front end's in-process certificate is made in
    // memory for it: there is nothing to verify and no one in between to verify against.
    tls.set_verify_mode(asio::ssl::verify_none);
  }

  asio::any_io_executor executor;
  Adopt adopt;
  std::string client_address;
  HoldProbe held;
  asio::ssl::context tls;
  // The connection; kept after it is closed until the next one replaces it (a read may be
  // finishing on it).
  std::optional<TlsStream> stream;
  bool connected = false;
  beast::flat_buffer buffer;
  net::AsyncLock busy;
  // The gateway ended the session the connection carried: nothing more runs here.
  bool gone = false;
  Clock::time_point last_used;
};

// One response being read, shared by the reader and the request that waits for it.
struct KubernetesToolSession::Reading {
  explicit Reading(asio::any_io_executor executor) : wake(executor) {
    parser.body_limit(boost::none);  // run() bounds the body itself, keeping what fits
  }
  http::response_parser<http::string_body> parser;
  asio::steady_timer wake;  // cancelled when the reader is done
  bool done = false;
  bool head = false;  // the status line and headers are in
  Clock::time_point head_at;
  bool over_limit = false;
  beast::error_code error;
};

KubernetesToolSession::KubernetesToolSession(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

KubernetesToolSession::~KubernetesToolSession() {
  close();
}

asio::awaitable<std::variant<std::shared_ptr<KubernetesToolSession>, ToolError>>
KubernetesToolSession::open(asio::any_io_executor executor, Adopt adopt, std::string client_address,
                            HoldProbe held) {
  auto session = std::make_shared<KubernetesToolSession>(std::make_unique<State>(
      executor, std::move(adopt), std::move(client_address), std::move(held)));
  if (auto failed = co_await session->connect()) co_return *failed;
  co_return session;
}

asio::awaitable<std::optional<ToolError>> KubernetesToolSession::connect() {
  auto& s = *state_;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    co_return closed_error(fmt::format("socketpair: {}", std::strerror(errno)));
  asio::local::stream_protocol::socket socket(s.executor);
  boost::system::error_code ec;
  socket.assign(asio::local::stream_protocol(), fds[0], ec);
  if (ec) {
    ::close(fds[0]);
    ::close(fds[1]);
    co_return closed_error(ec.message());
  }
  if (auto adopted =
          s.adopt(gateway::InProcessConnection{.fd = fds[1], .client_address = s.client_address});
      !adopted)
    co_return closed_error(adopted.error().message);
  s.stream.emplace(std::move(socket), s.tls);
  s.connected = true;
  s.buffer.clear();
  auto [handshake] =
      co_await s.stream->async_handshake(asio::ssl::stream_base::client, use_nothrow);
  if (handshake) {
    close();
    co_return closed_error("the gateway's Kubernetes front end did not complete TLS: " +
                           handshake.message());
  }
  s.last_used = Clock::now();
  co_return std::nullopt;
}

bool KubernetesToolSession::ended() const {
  return !state_->connected;
}

void KubernetesToolSession::close() {
  if (!state_->connected) return;
  state_->connected = false;
  // No close_notify: the front end takes the socket's end as the client's leaving, which is
  // what it is (and what ends a held request's wait there).
  boost::system::error_code ignored;
  state_->stream->lowest_layer().close(ignored);
}

asio::awaitable<std::variant<KubernetesAnswer, ToolError>> KubernetesToolSession::run(
    const Secret& credential, KubernetesRequest request, std::size_t max_bytes) {
  auto& busy = state_->busy;
  if (!busy.try_lock()) co_await busy.lock();
  struct Unlock {
    net::AsyncLock& lock;
    ~Unlock() { lock.unlock(); }
  } unlock{busy};
  co_return co_await run_alone(credential, std::move(request), max_bytes);
}

bool KubernetesToolSession::closed_by_peer() const {
  // The front end sends nothing between responses: a readable socket is its FIN or a reset.
  pollfd descriptor{
      .fd = state_->stream->lowest_layer().native_handle(), .events = POLLIN, .revents = 0};
  return ::poll(&descriptor, 1, 0) != 0;
}

asio::awaitable<std::variant<KubernetesAnswer, ToolError>> KubernetesToolSession::run_alone(
    const Secret& credential, KubernetesRequest request, std::size_t max_bytes) {
  auto& s = *state_;
  if (s.gone) co_return closed_error("the gateway's Kubernetes session has ended");
  if (s.connected && Clock::now() - s.last_used > kIdleReconnect) close();
  if (s.connected && closed_by_peer()) {
    close();
    s.gone = true;
    co_return closed_error(
        "the gateway ended the Kubernetes session (killed, revoked, expired, or stopping)");
  }
  // After a hold or a response not read to its end (this side closed the connection), or
  // after the idle time: a new connection, a new session of the front end.
  if (!s.connected)
    if (auto failed = co_await connect()) co_return *failed;

  http::request<http::string_body> out{http::string_to_verb(request.method),
                                       fmt::format("/k8s/{}{}", request.connection, request.path),
                                       11};
  out.set(http::field::host, "localhost");
  out.set(http::field::user_agent, "portcullis-mcp");
  out.set(http::field::accept, "application/json");
  std::string authorization = "Bearer " + std::string(credential.reveal());
  out.set(http::field::authorization, authorization);
  OPENSSL_cleanse(authorization.data(), authorization.size());
  if (request.body) {
    out.set(http::field::content_type,
            request.content_type.empty() ? "application/json" : request.content_type);
    out.body() = std::move(*request.body);
  }
  out.keep_alive(true);
  out.prepare_payload();
  auto self = shared_from_this();
  auto [write_error, written] = co_await http::async_write(*s.stream, out, use_nothrow);
  if (auto it = out.find(http::field::authorization); it != out.end()) {
    // The header's copy of the credential: not left in freed memory.
    std::string_view value = it->value();
    OPENSSL_cleanse(const_cast<char*>(value.data()), value.size());
  }
  if (write_error) {
    close();
    s.gone = true;
    co_return closed_error("the gateway's Kubernetes session closed: " + write_error.message());
  }

  auto reading = std::make_shared<Reading>(s.executor);
  asio::co_spawn(s.executor, read_response(self, reading, max_bytes), asio::detached);

  KubernetesAnswer answer;
  std::optional<Clock::time_point> held_since;
  std::string review;
  bool stopped = false;  // this side cut the response short
  while (!reading->done) {
    reading->wake.expires_after(kHoldPoll);
    co_await reading->wake.async_wait(use_nothrow);
    if (reading->done || stopped) continue;
    const auto now = Clock::now();
    if (!reading->head && s.held) {
      if (auto id = s.held(); !id.empty()) {
        if (!held_since || id != review) {
          held_since = now;
          review = std::move(id);
        }
        if (now - *held_since >= request.wait) {
          // Withdrawn: the front end sees the client leave, records it, and the review stays
          // pending; the same request sent again after the approval runs once.
          answer.review = review;
          stopped = true;
          close();
        }
      }
    }
    if (reading->head && now - reading->head_at > kBodyTimeout) {
      answer.truncated = true;
      stopped = true;
      close();
    }
  }
  s.last_used = Clock::now();
  if (!answer.review.empty()) co_return answer;

  auto& response = reading->parser.get();
  if (reading->head) {
    answer.status = response.result_int();
    answer.content_type = std::string(response[http::field::content_type]);
    answer.body = std::move(response.body());
  }
  if (reading->over_limit) {
    answer.truncated = true;
    if (answer.body.size() > max_bytes) answer.body.resize(max_bytes);
    close();  // the rest of the body is still coming: this connection cannot be reused
    co_return answer;
  }
  if (stopped) co_return answer;
  if (reading->error || !reading->parser.is_done()) {
    // Ended under the request: the front end ends a session by closing its connection.
    close();
    s.gone = true;
    co_return closed_error(
        reading->head ? "the gateway's Kubernetes session closed during the response"
                      : "the gateway's Kubernetes session closed before answering (killed, "
                        "revoked, expired, or stopping)");
  }
  if (!response.keep_alive()) close();
  co_return answer;
}

asio::awaitable<void> KubernetesToolSession::read_response(
    std::shared_ptr<KubernetesToolSession> self, std::shared_ptr<Reading> reading,
    std::size_t max_bytes) {
  auto& s = *self->state_;
  struct Done {
    Reading& reading;
    ~Done() {
      reading.done = true;
      reading.wake.cancel();
    }
  } done{*reading};
  if (!s.connected) co_return;
  auto [ec, n] =
      co_await http::async_read_header(*s.stream, s.buffer, reading->parser, use_nothrow);
  if (ec) {
    reading->error = ec;
    co_return;
  }
  reading->head = true;
  reading->head_at = Clock::now();
  while (!reading->parser.is_done()) {
    if (reading->parser.get().body().size() > max_bytes) {
      reading->over_limit = true;
      co_return;
    }
    // The stream may have been closed by run() (a body cut off): the read then fails.
    if (!s.connected) co_return;
    std::tie(ec, n) =
        co_await http::async_read_some(*s.stream, s.buffer, reading->parser, use_nothrow);
    if (ec) {
      reading->error = ec;
      co_return;
    }
  }
  if (reading->parser.get().body().size() > max_bytes) reading->over_limit = true;
}

}  // namespace portcullis::proto::mcp
