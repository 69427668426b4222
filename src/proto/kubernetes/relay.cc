// Forwarding a decided request to the API server and relaying its response: the caller's
// credential replaced by the connection's, and the response streamed back as it comes, with
// Secrets' values redacted for grants without `secrets` and every value masked with the grant's
// profile (JSON documents whole, watch events one by one, logs line by line). A response the
// gateway cannot read (protobuf, a compressed body) is not passed on where it would have to be
// inspected: the gateway fails closed.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>

#include "masking/output_masking.h"
#include "net/stream.h"
#include "proto/kubernetes/exec_stream.h"
#include "proto/kubernetes/exec_upgrade.h"
#include "proto/kubernetes/header_list.h"
#include "proto/kubernetes/json_lines.h"
#include "proto/kubernetes/json_masking.h"
#include "proto/kubernetes/session.h"
#include "proto/kubernetes/spdy_exec_stream.h"

namespace portcullis::proto::kubernetes {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

using net::use_nothrow;
// A JSON response masked as one document is read whole first: a list of 5 000 pods is about
// 25 MiB. Larger ones are refused rather than passed on unmasked (docs/kubernetes.md).
constexpr std::size_t kMaxMaskedDocument = 256 * 1024 * 1024;
constexpr std::size_t kResponseReadChunk = 64 * 1024;
// A request forwarded must be answered (its headers) within this; a watch or a log stream then
// runs as long as the API server keeps it open.
constexpr std::chrono::seconds kResponseTimeout{300};
constexpr std::chrono::hours kResponseStreamTimeout{24};

// Headers that belong to one hop, or that the gateway sets itself.
bool is_hop_header(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kHop{"connection",
                                                         "keep-alive",
                                                         "proxy-connection",
                                                         "proxy-authorization",
                                                         "proxy-authenticate",
                                                         "te",
                                                         "trailer",
                                                         "transfer-encoding",
                                                         "upgrade",
                                                         "content-length",
                                                         "host",
                                                         "authorization"};
  for (auto hop : kHop)
    if (beast::iequals(name, hop)) return true;
  return false;
}

// The client's Accept without the media types the gateway cannot read (protobuf, YAML): the API
// server then answers in JSON, which every client accepts too.
std::string readable_accept(std::string_view accept) {
  const std::string kept = filter_header_list(accept, [](std::string_view entry) {
    return entry.find("protobuf") == std::string_view::npos &&
           entry.find("yaml") == std::string_view::npos &&
           entry.find("cbor") == std::string_view::npos;
  });
  return kept.empty() ? std::string("application/json, */*") : kept;
}

bool is_json(std::string_view content_type) {
  return content_type.starts_with("application/json") ||
         content_type.find("+json") != std::string_view::npos;
}

bool is_text(std::string_view content_type) {
  return content_type.starts_with("text/plain");
}

// How a response body is relayed.
enum class Relay {
  as_is,     // nothing to inspect: streamed unchanged
  document,  // one JSON document, read whole and masked
  events,    // a watch: JSON documents one per line, each masked as it arrives
  text,      // a log: masked line by line as it arrives
  refuse,    // cannot be inspected: not passed on
};

// Whether the query sets a boolean parameter (`tty=true`, `tty=1`), as the API server reads it.
bool has_query_flag(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    const std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    return value == "true" || value == "1";
  }
  return false;
}

std::string chunk(std::string_view data) {
  return fmt::format("{:x}\r\n{}\r\n", data.size(), data);
}

}  // namespace

asio::awaitable<bool> Session::forward(Request& request, const ApiRequest& target,
                                       const policy::KubeCommand& command) {
  auto& gate = *gate_;
  const auto& grant = gate.grant();
  const auto& context = gate.context();
  auto fail = [&](unsigned code, std::string_view reason,
                  std::string message) -> asio::awaitable<bool> {
    gate.recorder().on_error(fmt::format("{}: {}", code, message));
    co_return co_await reply_status(request, {code, reason}, "portcullis: " + message);
  };

  // The request as the API server sees it: the connection's credential, nothing of the caller's.
  http::request<http::string_body> upstream_request{
      request.method(), target.query.empty() ? target.path : target.path + '?' + target.query, 11};
  for (const auto& field : request) {
    const std::string_view name = field.name_string();
    if (is_hop_header(name) || beast::iequals(name, "accept") ||
        beast::iequals(name, "accept-encoding"))
      continue;
    upstream_request.insert(name, field.value());
  }
  upstream_request.set(http::field::accept, readable_accept(request[http::field::accept]));
  upstream_request.set(http::field::accept_encoding, "identity");
  if (!grant.credentials->token.empty())
    upstream_request.set(http::field::authorization,
                         fmt::format("Bearer {}", grant.credentials->token.reveal()));
  upstream_request.body() = std::move(request.body());
  upstream_request.keep_alive(true);
  // exec and attach ask the API server to switch to a WebSocket (the handshake's own headers,
  // Sec-WebSocket-*, are passed on as they came) or to SPDY, offering only the stream protocols
  // whose frames the relay reads (exec_stream.h, spdy_exec_stream.h).
  const bool tunnel = command.verb == "portforward";
  const bool upgrade = command.verb == "exec" || command.verb == "attach" || tunnel;
  const bool spdy = upgrade && exec_framing_of(request) == ExecFraming::spdy;
  if (tunnel) {
    // Port forwarding carries the bytes of connections to the pod's ports, which are not
    // masked (they are any protocol's): the stream is relayed as it comes once allowed.
    upstream_request.set(http::field::connection, "Upgrade");
    upstream_request.erase(kStreamProtocolHeader);
    if (spdy) {
      upstream_request.set(http::field::upgrade, "SPDY/3.1");
      upstream_request.set(kStreamProtocolHeader, kPortForwardProtocol);
    } else {
      upstream_request.set(http::field::upgrade, "websocket");
      upstream_request.set(http::field::sec_websocket_protocol,
                           port_forward_subprotocols(request[http::field::sec_websocket_protocol]));
    }
  } else if (upgrade) {
    upstream_request.set(http::field::connection, "Upgrade");
    if (spdy) {
      upstream_request.set(http::field::upgrade, "SPDY/3.1");
      upstream_request.erase(kStreamProtocolHeader);
      for (const auto& protocol : readable_spdy_protocols_of(request))
        upstream_request.insert(kStreamProtocolHeader, protocol);
    } else {
      upstream_request.set(http::field::upgrade, "websocket");
      upstream_request.set(
          http::field::sec_websocket_protocol,
          readable_exec_subprotocols(request[http::field::sec_websocket_protocol]));
    }
  }

  // Sent on the kept connection, and once more on a new one if the API server had closed it
  // meanwhile: a write that fails, or (for a read, which may run twice) no answer at all.
  std::optional<http::response_parser<http::buffer_body>> response;
  for (int attempt = 0;; ++attempt) {
    const bool reused = upstream_ != nullptr;
    if (!upstream_) {
      const auto tls_key = fmt::format("{}/{}", grant.connection->name, grant.credentials->name);
      const auto tls = context.kubernetes_tls.find(tls_key);
      if (tls == context.kubernetes_tls.end())
        co_return co_await fail(503, "ServiceUnavailable",
                                "the connection has no TLS settings for its API server");
      auto opened = co_await UpstreamConnection::open(grant.connection->target.address, tls->second,
                                                      context.config->limits.handshake_timeout);
      if (!opened) {
        spdlog::warn(
            "event=kubernetes_upstream_unavailable session={} connection={:?} "
            "reason={:?}",
            id_, grant.connection->name, opened.error().message);
        co_return co_await fail(503, "ServiceUnavailable",
                                fmt::format("cannot reach the API server of connection \"{}\": {}",
                                            grant.connection->name, opened.error().message));
      }
      upstream_ = std::move(*opened);
    }
    const bool may_retry = reused && attempt == 0 && !ending_;
    upstream_request.set(http::field::host, upstream_->host_header());
    upstream_request.prepare_payload();
    beast::get_lowest_layer(upstream_->stream()).expires_after(kWriteTimeout);
    auto [write_ec, written] =
        co_await http::async_write(upstream_->stream(), upstream_request, use_nothrow);
    if (write_ec) {
      upstream_->close();
      upstream_.reset();
      if (may_retry) continue;
      co_return co_await fail(503, "ServiceUnavailable",
                              "the connection to the API server broke: " + write_ec.message());
    }
    response.emplace();
    response->body_limit(boost::none);
    beast::get_lowest_layer(upstream_->stream()).expires_after(kResponseTimeout);
    auto [header_ec, header_read] = co_await http::async_read_header(
        upstream_->stream(), upstream_->buffer(), *response, use_nothrow);
    if (!header_ec) break;
    upstream_->close();
    upstream_.reset();
    const bool idempotent =
        request.method() == http::verb::get || request.method() == http::verb::head;
    if (may_retry && idempotent && !upgrade) continue;
    co_return co_await fail(502, "InternalError",
                            "the API server did not answer: " + header_ec.message());
  }
  auto& parser = *response;
  auto& upstream_tcp = beast::get_lowest_layer(upstream_->stream());

  auto& head = parser.get();
  const unsigned status = head.result_int();
  if (upgrade && status == 101) {
    // Over SPDY the server names the stream protocol it chose: one of those offered, or the
    // relay would read frames it does not know.
    if (spdy && !tunnel && !is_readable_spdy_exec_protocol(head[kStreamProtocolHeader])) {
      upstream_->close();
      upstream_.reset();
      co_return co_await fail(
          502, "InternalError",
          fmt::format("the API server chose the stream protocol \"{}\", which was not offered",
                      std::string_view(head[kStreamProtocolHeader])));
    }
    // Switched: the response head as the API server wrote it (its Upgrade, Connection and
    // Sec-WebSocket-* or X-Stream-Protocol-Version headers included), then the stream.
    std::string switched = fmt::format("HTTP/1.1 101 {}\r\n", std::string_view(head.reason()));
    for (const auto& field : head)
      fmt::format_to(std::back_inserter(switched), "{}: {}\r\n",
                     std::string_view(field.name_string()), std::string_view(field.value()));
    switched += "\r\n";
    if (tunnel) co_return co_await relay_tunnel(std::move(switched), !spdy);
    co_return co_await relay_exec_stream(std::move(switched), has_query_flag(target.query, "tty"),
                                         spdy);
  }
  const std::string content_type(head[http::field::content_type]);
  const std::string content_encoding(head[http::field::content_encoding]);

  const bool redact_secrets =
      std::find(grant.allow.begin(), grant.allow.end(), "secrets") == grant.allow.end();
  const masking::Masker* masker = gate.masker();
  // Discovery answers describe the API (its groups, resources and schemas), never objects:
  // they pass as they are, which spares masking kubectl's megabytes of OpenAPI on every apply.
  const bool inspect = !command.discovery && (redact_secrets || masker != nullptr);
  Relay relay = Relay::as_is;
  if (inspect && !parser.is_done()) {
    if (!content_encoding.empty() && !beast::iequals(content_encoding, "identity"))
      relay = Relay::refuse;
    else if (is_json(content_type))
      relay = command.verb == "watch" ? Relay::events : Relay::document;
    else if (is_text(content_type))
      relay = Relay::text;
    else
      relay = Relay::refuse;
  }
  if (relay == Relay::refuse) {
    upstream_->close();
    upstream_.reset();
    co_return co_await fail(
        502, "InternalError",
        fmt::format("the API server answered with {:?}{}, which the gateway cannot inspect "
                    "for this access",
                    content_type, content_encoding.empty() ? "" : " (" + content_encoding + ")"));
  }

  // The response head for the client: the API server's, for this hop.
  std::string out_head = fmt::format("HTTP/1.1 {} {}\r\n", status, std::string_view(head.reason()));
  for (const auto& field : head) {
    const std::string_view name = field.name_string();
    if (is_hop_header(name)) continue;
    fmt::format_to(std::back_inserter(out_head), "{}: {}\r\n", name,
                   std::string_view(field.value()));
  }
  const bool keep_alive = request.keep_alive();
  if (!keep_alive) out_head += "Connection: close\r\n";
  const bool upstream_reusable = head.keep_alive();

  BodyRules rules{.redact_secrets = redact_secrets,
                  .all_secrets = command.resource == "secrets" && command.group.empty(),
                  .masker = masker};
  masking::Scratch* scratch = gate.mask_scratch();
  uint64_t sent = 0;
  auto& client_tcp = beast::get_lowest_layer(client_);
  auto write_client = [&](std::string_view bytes) -> asio::awaitable<bool> {
    client_tcp.expires_after(kWriteTimeout);
    auto [ec, n] = co_await asio::async_write(client_, asio::buffer(bytes), use_nothrow);
    sent += n;
    bytes_out_ += n;
    if (auto* live = gate.live()) live->bytes_out += n;
    co_return !ec;
  };
  auto add_counts = [&](const BodyCounts& counts) {
    const auto& by_detector = counts.masked.by_detector();
    for (std::size_t d = 0; d < by_detector.size(); ++d)
      if (by_detector[d] != 0) gate.mask_counts().add(d, by_detector[d]);
  };

  std::array<char, kResponseReadChunk> piece;
  // Reads the next piece of the body into `piece`; its size, 0 at the end; nullopt on error.
  auto read_piece = [&]() -> asio::awaitable<std::optional<std::size_t>> {
    if (parser.is_done()) co_return std::size_t{0};
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    upstream_tcp.expires_after(relay == Relay::document ? kResponseTimeout
                                                        : kResponseStreamTimeout);
    auto [ec, n] = co_await http::async_read_some(upstream_->stream(), upstream_->buffer(), parser,
                                                  use_nothrow);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return std::nullopt;
    co_return piece.size() - parser.get().body().size;
  };

  bool client_ok = true;
  std::string error;
  if (parser.is_done()) {
    // No body (a 204, a HEAD, an empty answer).
    const bool bodiless = status == 204 || status == 304 || request.method() == http::verb::head;
    out_head += bodiless ? "\r\n" : "Content-Length: 0\r\n\r\n";
    client_ok = co_await write_client(out_head);
  } else if (relay == Relay::document) {
    std::string body;
    for (;;) {
      auto n = co_await read_piece();
      if (!n) {
        error = "the API server's response broke off";
        break;
      }
      if (*n == 0 && parser.is_done()) break;
      body.append(piece.data(), *n);
      if (body.size() > kMaxMaskedDocument) {
        error = fmt::format("the response is larger than the {} MiB the gateway masks",
                            kMaxMaskedDocument >> 20);
        break;
      }
    }
    if (!error.empty()) {
      upstream_->close();
      upstream_.reset();
      co_return co_await fail(502, "InternalError", error);
    }
    BodyCounts counts;
    auto masked = mask_json_document(body, rules, *scratch, counts);
    if (!masked) {
      upstream_->close();
      upstream_.reset();
      co_return co_await fail(
          502, "InternalError",
          "the API server's response could not be read as JSON: " + masked.error().message);
    }
    add_counts(counts);
    out_head += fmt::format("Content-Length: {}\r\n\r\n", masked->size());
    client_ok = co_await write_client(out_head) && co_await write_client(*masked);
  } else {
    // Streamed: chunked toward the client, each piece sent as soon as it is read (and masked).
    out_head += "Transfer-Encoding: chunked\r\n\r\n";
    client_ok = co_await write_client(out_head);
    JsonLines lines;
    masking::OutputMasking text(relay == Relay::text ? masker : nullptr, scratch,
                                &gate.mask_counts());
    std::string pending;
    // A client that leaves while nothing comes (a quiet watch, a log that waits) is noticed at
    // once: the socket turning readable in the middle of a response (its FIN, its TLS
    // close_notify, a reset; HTTP/1.1 clients send nothing else before the response ends) stops
    // the stream, instead of holding the API server's watch until its next event.
    struct Watch {
      bool streaming = true;  // false once the response ended: a late wake-up does nothing
      bool client_left = false;
    };
    auto watch = std::make_shared<Watch>();
    std::weak_ptr<Session> weak = shared_from_this();
    client_tcp.socket().async_wait(asio::ip::tcp::socket::wait_read,
                                   [watch, weak](const boost::system::error_code& ec) {
                                     if (ec || !watch->streaming) return;
                                     watch->client_left = true;
                                     if (auto session = weak.lock(); session && session->upstream_)
                                       session->upstream_->close();
                                   });
    while (client_ok && !ending_) {
      auto n = co_await read_piece();
      if (!n) {
        error = ending_              ? "the session ended"
                : watch->client_left ? "the client left during the response"
                                     : "the API server's response broke off";
        break;
      }
      const std::string_view data(piece.data(), *n);
      pending.clear();
      if (relay == Relay::as_is) {
        pending.assign(data);
      } else if (relay == Relay::text) {
        text.feed(data, pending);
      } else {
        if (auto fed = lines.feed(data); !fed) {
          error = fed.error().message;
          break;
        }
        while (auto line = lines.next()) {
          BodyCounts counts;
          auto masked = mask_json_document(*line, rules, *scratch, counts);
          if (!masked) {
            error = "a watch event could not be read as JSON: " + masked.error().message;
            break;
          }
          add_counts(counts);
          pending += *masked;
          pending += '\n';
        }
        if (!error.empty()) break;
      }
      if (parser.is_done() && relay == Relay::text) text.finish(pending);
      if (!pending.empty()) client_ok = co_await write_client(chunk(pending));
      if (parser.is_done()) break;
    }
    // From here the client may send its next request as soon as it has the last chunk.
    watch->streaming = false;
    if (client_ok && error.empty() && !ending_ && parser.is_done()) {
      if (relay == Relay::events) {
        if (auto finished = lines.finish(); !finished) error = finished.error().message;
      }
      client_ok = co_await write_client("0\r\n\r\n");
    }
    // The wait ends with the response (its handler keeps only what it shares).
    boost::system::error_code ignored;
    client_tcp.socket().cancel(ignored);
  }

  const bool complete = parser.is_done() && error.empty();
  if (!complete || !upstream_reusable) {
    upstream_->close();
    upstream_.reset();
  }
  if (!error.empty()) {
    gate.recorder().on_streamed_data(sent);
    gate.recorder().on_error(fmt::format("{}: {}", status, error));
    co_return false;  // the client's response is cut short: the connection closes
  }
  gate.recorder().on_streamed_data(sent);
  if (!client_ok || ending_) {
    gate.recorder().on_error(ending_ ? fmt::format("{}: the session ended", status)
                                     : fmt::format("{}: the client left", status));
    co_return false;
  }
  if (status >= 400)
    gate.recorder().on_error(fmt::format("{} {}", status, std::string_view(head.reason())));
  else
    gate.recorder().on_complete(std::nullopt);
  co_return keep_alive;
}

}  // namespace portcullis::proto::kubernetes
