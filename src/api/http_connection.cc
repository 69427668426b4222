// Reading requests and writing responses with Boost.Beast, plain or over TLS, with the API's
// limits on what a client may make the gateway hold or wait for.
#include "api/http_connection.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <string>
#include <tuple>
#include <type_traits>

#include "api/router.h"
#include "net/stream.h"

namespace portcullis::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using net::use_nothrow;

// Room for a bearer token at the Authenticator's own limit (identity::kMaxTokenLength, 16 KiB)
// and the ordinary headers of a browser or curl, twice over.
constexpr std::size_t kMaxHeaderBytes = 32 * 1024;
// The API takes small JSON documents (a review comment, an access request); nothing it serves
// needs more.
constexpr std::size_t kMaxBodyBytes = 64 * 1024;
// A request (or the TLS handshake before it) must arrive whole within this; an idle keep-alive
// connection is closed after it too. The PostgreSQL front end's handshake_timeout default.
constexpr std::chrono::seconds kReadTimeout{15};
// A new connection's TLS handshake and first request headers must arrive within this: a
// client that connects and then dawdles holds one of the few places for connections that
// have not sent a request yet (ApiServer), and a real client sends at once.
constexpr std::chrono::seconds kFirstRequestTimeout{5};
// A client that stops reading a response (or a stream) for this long is gone.
constexpr std::chrono::seconds kWriteTimeout{30};
// After the last response: how long, and how much, of what the client still sends is read and
// dropped, so that the kernel does not answer it with a reset that could destroy the response
// before the client has read it (nginx's lingering_close, 5 s there).
constexpr std::chrono::seconds kLingerTimeout{2};
constexpr std::size_t kMaxLingerBytes = 1 << 20;

template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

// The answer to a request that could not be read, or nullopt when the connection just ends
// (closed by the client, timed out, reset).
std::optional<Response> read_refusal(const beast::error_code& ec) {
  if (ec == beast::http::error::header_limit)
    return error_response(
        http::status::request_header_fields_too_large, "headers_too_large",
        fmt::format("the request headers are larger than {} KiB", kMaxHeaderBytes / 1024));
  if (ec == beast::http::error::body_limit)
    return error_response(
        http::status::payload_too_large, "payload_too_large",
        fmt::format("the request body is larger than {} KiB", kMaxBodyBytes / 1024));
  if (ec == beast::http::error::end_of_stream || ec == beast::http::error::partial_message)
    return std::nullopt;
  if (ec.category() == beast::http::make_error_code(beast::http::error::bad_target).category())
    return error_response(http::status::bad_request, "bad_request", "malformed HTTP request");
  return std::nullopt;
}

template <class Stream>
asio::awaitable<bool> write_response(Stream& stream, Response& response) {
  response.set("X-Content-Type-Options", "nosniff");
  beast::get_lowest_layer(stream).expires_after(kWriteTimeout);
  auto [ec, written] = co_await beast::http::async_write(stream, response, use_nothrow);
  co_return !ec;
}

template <class Stream>
asio::awaitable<void> close_connection(Stream& stream) {
  auto& tcp = beast::get_lowest_layer(stream);
  if constexpr (kIsTls<Stream>) {
    tcp.expires_after(kLingerTimeout);
    co_await stream.async_shutdown(use_nothrow);  // close_notify; the peer's may never come
  }
  beast::error_code ignored;
  tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  tcp.expires_after(kLingerTimeout);
  std::array<char, 4096> scratch;
  for (std::size_t dropped = 0; dropped < kMaxLingerBytes;) {
    auto [ec, n] = co_await tcp.async_read_some(asio::buffer(scratch), use_nothrow);
    if (ec) break;
    dropped += n;
  }
  tcp.close();
}

// The deadline of a connection that has not sent a request whole yet, and its place.
struct FirstRequest {
  std::chrono::steady_clock::time_point deadline;
  net::PendingConnections::Ticket ticket;
};

template <class Stream>
asio::awaitable<void> serve_requests(Stream& stream, beast::flat_buffer& buffer, Services& services,
                                     bool tls_required, FirstRequest& first) {
  RawWriter write = [&stream](const std::string& bytes) -> asio::awaitable<bool> {
    beast::get_lowest_layer(stream).expires_after(kWriteTimeout);
    auto [ec, written] = co_await asio::async_write(stream, asio::buffer(bytes), use_nothrow);
    co_return !ec;
  };
  for (;;) {
    beast::http::request_parser<beast::http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxBodyBytes);
    auto& tcp = beast::get_lowest_layer(stream);
    if (first.ticket.holds())
      tcp.expires_at(first.deadline);
    else
      tcp.expires_after(kReadTimeout);
    auto [ec, read] = co_await beast::http::async_read_header(stream, buffer, parser, use_nothrow);
    if (!ec) {
      tcp.expires_after(kReadTimeout);
      std::tie(ec, read) = co_await beast::http::async_read(stream, buffer, parser, use_nothrow);
    }
    if (!ec) first.ticket.release();
    if (ec) {
      if (auto refusal = read_refusal(ec)) {
        refusal->keep_alive(false);
        if (co_await write_response(stream, *refusal)) co_await close_connection(stream);
      }
      co_return;
    }
    Request request = parser.release();
    std::optional<Response> response;
    if (tls_required) {
      // Too late for the token this request may carry, but the client learns to use HTTPS.
      response = error_response(http::status::bad_request, "tls_required",
                                "this listener takes HTTPS only (tls.plaintext)");
    } else {
      boost::system::error_code peer_ec;
      const auto peer = beast::get_lowest_layer(stream).socket().remote_endpoint(peer_ec);
      auto routed = route(request, services.context->load(), services, write,
                          peer_ec ? std::string("unknown")
                                  : fmt::format("{}:{}", peer.address().to_string(), peer.port()));
      response = co_await std::move(routed);
      if (!response) {
        co_await close_connection(stream);  // a stream the endpoint ended
        co_return;
      }
    }
    const bool keep_alive = request.keep_alive() && !tls_required;
    response->version(request.version());
    response->keep_alive(keep_alive);
    if (!co_await write_response(stream, *response)) co_return;
    if (!keep_alive) {
      co_await close_connection(stream);
      co_return;
    }
  }
}

bool plaintext_allowed(const config::Config& config, bool loopback_listener) {
  // Without a tls section the configuration only loads with a loopback listener.
  if (!config.tls) return true;
  switch (config.tls->plaintext) {
    case config::PlaintextPolicy::allow:
      return true;
    case config::PlaintextPolicy::never:
      return false;
    case config::PlaintextPolicy::loopback:
      return loopback_listener;
  }
  return false;
}

}  // namespace

asio::awaitable<void> serve_connection(asio::ip::tcp::socket socket,
                                       std::shared_ptr<const ApiContext> context,
                                       Services& services,
                                       net::PendingConnections::Ticket pending) {
  FirstRequest first{std::chrono::steady_clock::now() + kFirstRequestTimeout, std::move(pending)};
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  if (context->tls) {
    // The first bytes say which: a TLS ClientHello, or an HTTP request line.
    stream.expires_at(first.deadline);
    auto [ec, is_tls] = co_await beast::async_detect_ssl(stream, buffer, use_nothrow);
    if (ec) co_return;
    if (is_tls) {
      TlsStream tls(std::move(stream), *context->tls);
      beast::get_lowest_layer(tls).expires_at(first.deadline);
      auto [handshake_ec, used] =
          co_await tls.async_handshake(asio::ssl::stream_base::server, buffer.data(), use_nothrow);
      if (handshake_ec) {
        spdlog::info("event=api_tls_failed error=\"{}\"", handshake_ec.message());
        co_return;
      }
      buffer.consume(used);
      co_await serve_requests(tls, buffer, services, /*tls_required=*/false, first);
      co_return;
    }
  }
  const bool tls_required = !plaintext_allowed(*context->config, services.loopback_listener);
  co_await serve_requests(stream, buffer, services, tls_required, first);
}

}  // namespace portcullis::api
