// A webhook POST with Boost.Beast, plain or over TLS (peer verified, SNI set), under one
// deadline for the whole attempt.
#include "review/webhook_client.h"

#include <fmt/format.h>
#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include "config/units.h"
#include "net/stream.h"
#include "net/tls.h"

namespace portcullis::review {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using net::use_nothrow;

std::string timed_out(std::chrono::milliseconds timeout) {
  return fmt::format("no answer within {}", config::format_duration(timeout));
}

// What went wrong in `step`, never with the URL in it.
std::string failure(std::string_view step, const error_code& ec,
                    std::chrono::milliseconds timeout) {
  if (ec == beast::error::timeout || ec == asio::error::operation_aborted)
    return fmt::format("{}: {}", step, timed_out(timeout));
  return fmt::format("{}: {}", step, ec.message());
}

bool is_ip_address(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// Request and status line over an open stream (TCP or TLS); the deadline is already set on
// the TCP layer beneath.
template <class Stream>
asio::awaitable<Result<unsigned>> exchange(Stream& stream, const WebhookUrl& url,
                                           const std::string& body,
                                           std::chrono::milliseconds timeout) {
  http::request<http::string_body> request{http::verb::post, url.target, 11};
  request.set(http::field::host, url.host_header);
  request.set(http::field::user_agent, "portcullis");
  request.set(http::field::content_type, "application/json");
  request.set(http::field::connection, "close");
  request.body() = body;
  request.prepare_payload();
  auto [write_ec, written] = co_await http::async_write(stream, request, use_nothrow);
  if (write_ec) co_return make_error(failure("sending the request", write_ec, timeout));

  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  auto [read_ec, read] = co_await http::async_read_header(stream, buffer, parser, use_nothrow);
  if (read_ec) co_return make_error(failure("reading the answer", read_ec, timeout));
  co_return parser.get().result_int();
}

}  // namespace

Result<WebhookUrl> parse_webhook_url(std::string_view text) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return make_error("the webhook URL is not a valid URL");
  const auto scheme = parsed->scheme_id();
  if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https)
    return make_error("the webhook URL must start with http:// or https://");
  if (parsed->encoded_host().empty()) return make_error("the webhook URL has no host");
  // A credential belongs in the path or query, where receivers expect it; user:password@
  // would need Basic authentication, which no common receiver asks of a webhook.
  if (parsed->has_userinfo()) return make_error("user:password@ in a webhook URL is not supported");
  WebhookUrl url;
  url.tls = scheme == boost::urls::scheme::https;
  url.host = parsed->host_address();
  url.port = parsed->has_port() && !parsed->port().empty() ? std::string(parsed->port())
             : url.tls                                     ? "443"
                                                           : "80";
  url.host_header = parsed->encoded_host_and_port();
  url.target = parsed->encoded_target();
  if (url.target.empty() || url.target.front() != '/') url.target.insert(0, "/");
  return url;
}

Result<std::unique_ptr<WebhookClient>> WebhookClient::create(const std::filesystem::path& ca_file) {
  auto tls = net::make_client_tls_context(/*verify=*/true, ca_file);
  if (!tls) return tls.error();
  return std::unique_ptr<WebhookClient>(new WebhookClient(std::move(*tls)));
}

asio::awaitable<Result<unsigned>> WebhookClient::post(const WebhookUrl& url,
                                                      const std::string& body,
                                                      std::chrono::milliseconds timeout) {
  const auto executor = co_await asio::this_coro::executor;
  const auto deadline = std::chrono::steady_clock::now() + timeout;

  // The resolver has no deadline of its own: a timer cancels it. Shared with the timer's
  // handler, which may run after this coroutine has moved on.
  auto resolver = std::make_shared<tcp::resolver>(executor);
  asio::steady_timer resolve_deadline(executor, deadline);
  resolve_deadline.async_wait([resolver](const error_code& ec) {
    if (!ec) resolver->cancel();
  });
  auto [resolve_ec, endpoints] = co_await resolver->async_resolve(url.host, url.port, use_nothrow);
  resolve_deadline.cancel();
  if (resolve_ec) co_return make_error(failure("resolving the host", resolve_ec, timeout));

  // The TCP layer's deadline covers every later step: connect, handshake, write and read.
  beast::tcp_stream stream(executor);
  stream.expires_at(deadline);
  auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, use_nothrow);
  if (connect_ec) co_return make_error(failure("connecting", connect_ec, timeout));

  if (!url.tls) {
    auto status = co_await exchange(stream, url, body, timeout);
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
    co_return status;
  }

  beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), *tls_);
  // SNI takes a host name only (RFC 6066, section 3); the certificate is checked against the
  // name or address either way.
  if (!is_ip_address(url.host)) SSL_set_tlsext_host_name(tls.native_handle(), url.host.c_str());
  tls.set_verify_mode(asio::ssl::verify_peer);
  tls.set_verify_callback(asio::ssl::host_name_verification(url.host));
  auto [handshake_ec] = co_await tls.async_handshake(asio::ssl::stream_base::client, use_nothrow);
  if (handshake_ec) co_return make_error(failure("TLS handshake", handshake_ec, timeout));
  auto status = co_await exchange(tls, url, body, timeout);
  // No close_notify: the answer is in, and a receiver that never sends its own would hold
  // the attempt until the deadline.
  beast::get_lowest_layer(tls).close();
  co_return status;
}

}  // namespace portcullis::review
