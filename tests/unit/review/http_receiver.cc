// The test double's accept loop and connections (Boost.Beast, one request per connection).
#include "http_receiver.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <stdexcept>
#include <string>

namespace portcullis::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// Longer than any test: a hanging answer is ended by the receiver's destruction.
constexpr std::chrono::hours kHangFor{1};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

HttpReceiver::HttpReceiver(std::vector<Answer> script, Answer otherwise,
                           std::optional<ReceiverTls> tls)
    : script_(std::move(script)), otherwise_(std::move(otherwise)) {
  if (tls) {
    tls_ = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    tls_->use_certificate_chain_file(tls->cert_file.string());
    tls_->use_private_key_file(tls->key_file.string(), asio::ssl::context::pem);
  }
  tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  port_ = acceptor.local_endpoint().port();
  asio::co_spawn(
      io_,
      [this, acceptor = std::move(acceptor)]() mutable -> asio::awaitable<void> {
        for (;;) {
          auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
          if (ec) co_return;
          connected();
          asio::co_spawn(
              io_,
              [this, socket = std::move(socket)]() mutable -> asio::awaitable<void> {
                beast::tcp_stream tcp_stream(std::move(socket));
                if (!tls_) {
                  co_await serve(tcp_stream, "");
                  co_return;
                }
                beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), *tls_);
                auto [ec] =
                    co_await stream.async_handshake(asio::ssl::stream_base::server, use_nothrow);
                if (ec) co_return;
                const char* sni =
                    SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
                co_await serve(stream, sni != nullptr ? sni : "");
              },
              asio::detached);
        }
      },
      asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

HttpReceiver::~HttpReceiver() {
  io_.stop();
  thread_.join();
}

template <class Stream>
asio::awaitable<void> HttpReceiver::serve(Stream& stream, std::string server_name) {
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  auto [ec, read] = co_await http::async_read(stream, buffer, request, use_nothrow);
  if (ec) co_return;
  ReceivedRequest received;
  received.method = std::string(request.method_string());
  received.target = std::string(request.target());
  for (const auto& field : request)
    received.headers[lower(std::string(field.name_string()))] = std::string(field.value());
  received.body = request.body();
  received.server_name = std::move(server_name);
  received.time = std::chrono::steady_clock::now();
  const Answer answer = next_answer();
  record(std::move(received));
  if (answer.hang) {
    asio::steady_timer forever(co_await asio::this_coro::executor, kHangFor);
    co_await forever.async_wait(use_nothrow);
    co_return;
  }
  http::response<http::string_body> response{static_cast<http::status>(answer.status),
                                             request.version()};
  response.set(http::field::content_type, answer.content_type);
  response.body() = answer.body;
  response.keep_alive(false);
  response.prepare_payload();
  co_await http::async_write(stream, response, use_nothrow);
  beast::error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
  // Wait for the client to close, so that the answer is not cut by a reset.
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  char scratch[256];
  for (;;) {
    auto [read_ec, n] = co_await beast::get_lowest_layer(stream).async_read_some(
        asio::buffer(scratch), use_nothrow);
    if (read_ec) break;
  }
}

std::string HttpReceiver::url(const std::string& path, const std::string& host) const {
  return std::string(tls_ ? "https://" : "http://") + host + ":" + std::to_string(port_) + path;
}

bool HttpReceiver::wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
}

bool HttpReceiver::wait_for_connections(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return connections_ >= count; });
}

std::vector<ReceivedRequest> HttpReceiver::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t HttpReceiver::connections() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

Answer HttpReceiver::next_answer() {
  std::lock_guard lock(mutex_);
  const std::size_t index = answered_++;
  return index < script_.size() ? script_[index] : otherwise_;
}

void HttpReceiver::record(ReceivedRequest request) {
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(request));
  }
  changed_.notify_all();
}

void HttpReceiver::connected() {
  {
    std::lock_guard lock(mutex_);
    ++connections_;
  }
  changed_.notify_all();
}

}  // namespace portcullis::testing
