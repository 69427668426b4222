// A synchronous REST API client with Boost.Beast (a coroutine run to completion on an
// io_context of its own, so that one deadline covers every step), and the API-backed
// commands' shared options and output.
#include "cli/api_client.h"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "net/stream.h"
#include "net/tls.h"

namespace portcullis::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using net::use_nothrow;

bool is_ip_address(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// The answer as the commands see it: the JSON of a 2xx, the API's own message for a refusal.
// `text`: a 2xx answer is text (a recording), kept whole as a JSON string.
ApiResult interpret(unsigned status, std::string_view reason, const std::string& body,
                    const std::string& where, bool text) {
  if (text && status >= 200 && status < 300) return json::value(json::string(body));
  error_code ec;
  json::value value = body.empty() ? json::value() : json::parse(body, ec);
  if (status >= 200 && status < 300) {
    if (ec)
      return ApiError{2, status, "",
                      fmt::format("the server at {} did not answer like the Portcullis API "
                                  "(HTTP {}, not JSON); check --api",
                                  where, status)};
    return value;
  }
  if (status >= 400 && status < 600) {
    if (!ec && value.is_object()) {
      if (const auto* error = value.as_object().if_contains("error");
          error != nullptr && error->is_object()) {
        const std::string message = string_field(error->as_object(), "message");
        if (!message.empty())
          return ApiError{1, status, string_field(error->as_object(), "code"), message};
      }
    }
    return ApiError{1, status, "", fmt::format("the API answered HTTP {} {}", status, reason)};
  }
  return ApiError{
      2, status, "",
      fmt::format("the server at {} answered HTTP {} {}; check --api", where, status, reason)};
}

// What a failed step means to the person at the terminal. Never holds the token.
ApiError unreachable(const std::string& where, const error_code& ec,
                     std::chrono::milliseconds timeout) {
  if (ec == beast::error::timeout || ec == asio::error::operation_aborted)
    return ApiError{2, 0, "",
                    fmt::format("the API at {} did not answer within {}s", where,
                                std::chrono::duration_cast<std::chrono::seconds>(timeout).count())};
  return ApiError{2, 0, "", fmt::format("cannot reach the API at {}: {}", where, ec.message())};
}

template <class Stream>
asio::awaitable<ApiResult> exchange(Stream& stream, http::request<http::string_body>& request,
                                    const std::string& where, std::chrono::milliseconds timeout,
                                    bool text) {
  auto [write_ec, written] = co_await http::async_write(stream, request, use_nothrow);
  if (write_ec) co_return unreachable(where, write_ec, timeout);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxApiAnswerBytes);
  auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, use_nothrow);
  if (read_ec) co_return unreachable(where, read_ec, timeout);
  const auto& response = parser.get();
  co_return interpret(response.result_int(), response.reason(), response.body(), where, text);
}

// Code points, for column widths and cuts.
std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
}

}  // namespace

Result<ApiClient> ApiClient::create(ApiClientOptions options) {
  auto parsed = boost::urls::parse_uri(options.url);
  if (!parsed) return make_error(fmt::format("--api: \"{}\" is not a URL", options.url));
  const auto scheme = parsed->scheme_id();
  if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https)
    return make_error("--api: expected an http:// or https:// URL");
  if (parsed->encoded_host().empty()) return make_error("--api: the URL has no host");
  if (parsed->has_userinfo() || parsed->has_query() || parsed->has_fragment())
    return make_error("--api: expected the API's base URL, such as " + std::string(kDefaultApiUrl));
  ApiClient client;
  client.tls_ = scheme == boost::urls::scheme::https;
  client.host_ = parsed->host_address();
  client.port_ = parsed->has_port() && !parsed->port().empty() ? std::string(parsed->port())
                 : client.tls_                                 ? "443"
                                                               : "80";
  client.host_header_ = parsed->encoded_host_and_port();
  client.where_ = fmt::format("{}:{}", std::string(parsed->encoded_host()), client.port_);
  client.base_path_ = parsed->encoded_path();
  while (client.base_path_.ends_with('/')) client.base_path_.pop_back();
  if (client.tls_) {
    auto context = net::make_client_tls_context(/*verify=*/true, options.ca_file);
    if (!context) return context.error();
    client.tls_context_ = std::move(*context);
  }
  client.options_ = std::move(options);
  return client;
}

ApiResult ApiClient::get(std::string_view path) const {
  return request(Method::get, path, {}, false);
}

ApiResult ApiClient::get_text(std::string_view path) const {
  return request(Method::get, path, {}, true);
}

ApiResult ApiClient::post(std::string_view path, const boost::json::object& body) const {
  return request(Method::post, path, json::serialize(body), false);
}

ApiResult ApiClient::remove(std::string_view path) const {
  return request(Method::delete_, path, {}, false);
}

ApiResult ApiClient::request(Method method, std::string_view path, std::string body,
                             bool text) const {
  const bool post = method == Method::post;
  const http::verb verb = post                        ? http::verb::post
                          : method == Method::delete_ ? http::verb::delete_
                                                      : http::verb::get;
  http::request<http::string_body> request{verb, base_path_ + std::string(path), 11};
  request.set(http::field::host, host_header_);
  request.set(http::field::user_agent, "portcullis-cli");
  request.set(http::field::accept, text ? "*/*" : "application/json");
  request.set(http::field::authorization, "Bearer " + options_.token.reveal());
  request.set(http::field::connection, "close");
  if (post) {
    request.set(http::field::content_type, "application/json");
    request.body() = std::move(body);
  }
  request.prepare_payload();

  asio::io_context io;
  ApiResult result = ApiError{2, 0, "", "no answer"};
  const auto run = [&]() -> asio::awaitable<void> {
    const auto executor = co_await asio::this_coro::executor;
    const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
    // The resolver has no deadline of its own: a timer cancels it.
    auto resolver = std::make_shared<tcp::resolver>(executor);
    asio::steady_timer resolve_deadline(executor, deadline);
    resolve_deadline.async_wait([resolver](const error_code& ec) {
      if (!ec) resolver->cancel();
    });
    auto [resolve_ec, endpoints] = co_await resolver->async_resolve(host_, port_, use_nothrow);
    resolve_deadline.cancel();
    if (resolve_ec) {
      result = unreachable(where_, resolve_ec, options_.timeout);
      co_return;
    }
    beast::tcp_stream stream(executor);
    stream.expires_at(deadline);  // connect, handshake, request and answer
    auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, use_nothrow);
    if (connect_ec) {
      result = unreachable(where_, connect_ec, options_.timeout);
      co_return;
    }
    if (!tls_) {
      result = co_await exchange(stream, request, where_, options_.timeout, text);
      stream.close();
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), *tls_context_);
    if (!is_ip_address(host_)) SSL_set_tlsext_host_name(tls.native_handle(), host_.c_str());
    tls.set_verify_mode(asio::ssl::verify_peer);
    tls.set_verify_callback(asio::ssl::host_name_verification(host_));
    auto [handshake_ec] = co_await tls.async_handshake(asio::ssl::stream_base::client, use_nothrow);
    if (handshake_ec) {
      const long verify = SSL_get_verify_result(tls.native_handle());
      if (verify != X509_V_OK)
        result = ApiError{2, 0, "",
                          fmt::format("the API's certificate at {} is not trusted: {} (--ca-file "
                                      "or PORTCULLIS_CA_FILE names the CA that signed it)",
                                      where_, X509_verify_cert_error_string(verify))};
      else
        result = ApiError{
            2, 0, "",
            fmt::format("TLS with the API at {} failed: {}", where_, handshake_ec.message())};
      co_return;
    }
    result = co_await exchange(tls, request, where_, options_.timeout, text);
    beast::get_lowest_layer(tls).close();
  };
  asio::co_spawn(io, run, [&](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      result = ApiError{2, 0, "", fmt::format("talking to the API at {}: {}", where_, e.what())};
    }
  });
  io.run();
  return result;
}

std::string path_segment(std::string_view text) {
  return boost::urls::encode(text, boost::urls::unreserved_chars);
}

// ---- For the commands

void fail(int status, const std::string& message) {
  std::fflush(stdout);
  fmt::print(stderr, "portcullis: {}\n", message);
  throw CommandExit{status};
}

void add_api_options(CLI::App& command, ApiOptions& options) {
  command.add_option("--api", options.url, "Base URL of the gateway's REST API")
      ->envname("PORTCULLIS_API")
      ->capture_default_str();
  command
      .add_option("--token", options.token,
                  "Bearer token: a gateway token, OIDC token or API key (prefer the "
                  "environment variable: a command line is visible to other users)")
      ->envname("PORTCULLIS_TOKEN")
      ->required();
  command
      .add_option("--ca-file", options.ca_file,
                  "CA certificates (PEM) for an https:// API; default: the system's")
      ->envname("PORTCULLIS_CA_FILE");
}

ApiClient connect_api_or_exit(const ApiOptions& options) {
  if (options.token.empty()) fail(2, "--token (or PORTCULLIS_TOKEN) is required");
  ApiClientOptions client_options;
  client_options.url = options.url;
  client_options.token = Secret(options.token);
  client_options.ca_file = options.ca_file;
  auto client = ApiClient::create(std::move(client_options));
  if (!client) fail(2, client.error().message);
  return std::move(*client);
}

json::value answer_or_exit(const ApiResult& result) {
  if (!result) fail(result.error().exit_status, result.error().message);
  return result.value();
}

// ---- Showing answers

std::string string_field(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return {};
  return std::string(value->as_string());
}

std::int64_t number_field(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr) return 0;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64()) return static_cast<std::int64_t>(value->as_uint64());
  if (value->is_double()) return static_cast<std::int64_t>(value->as_double());
  return 0;
}

std::string printable(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n' && keep_newlines)
      out += c;
    else if (c == '\n' || c == '\r' || c == '\t')
      out += ' ';
    else if (byte < 0x20 || byte == 0x7f)
      out += fmt::format("\\x{:02x}", byte);
    else
      out += c;
  }
  return out;
}

std::string shorten(std::string_view text, std::size_t max_chars) {
  if (max_chars == 0 || display_width(text) <= max_chars) return std::string(text);
  std::size_t chars = 0, end = 0;
  for (; end < text.size(); ++end) {
    if ((static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) continue;
    if (chars == max_chars - 1) break;
    ++chars;
  }
  return std::string(text.substr(0, end)) + "…";
}

std::string short_time(std::string_view time) {
  if (time.empty()) return "-";
  // "2026-11-25T21:04:05.123456789Z": the seconds are precise enough for a table.
  constexpr std::size_t kSecondsEnd = 19;
  if (time.size() > kSecondsEnd + 1 && time[kSecondsEnd] == '.' && time.back() == 'Z')
    return std::string(time.substr(0, kSecondsEnd)) + "Z";
  return std::string(time);
}

void print_table(const std::vector<std::string>& headers,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& header : headers) widths.push_back(display_width(header));
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], row[i].empty() ? 1 : display_width(row[i]));
  const auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      const std::string cell = row[i].empty() ? "-" : row[i];
      line += cell;
      if (i + 1 < row.size()) line += std::string(widths[i] - display_width(cell) + 2, ' ');
    }
    fmt::print("{}\n", line);
  };
  print_row(headers);
  for (const auto& row : rows) print_row(row);
}

}  // namespace portcullis::cli
