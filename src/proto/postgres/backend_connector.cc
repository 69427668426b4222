// Backend connection set-up and authentication.
#include "proto/postgres/backend_connector.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <optional>

#include "proto/postgres/decoder.h"
#include "proto/postgres/encoder.h"
#include "proto/postgres/scram.h"
#include "proto/postgres/sqlstate.h"

namespace portcullis::proto::postgres {
namespace asio = boost::asio;
using net::use_nothrow;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kStartupReadChunk = 8192;

BackendFailure unavailable(const config::ConnectionConfig& connection, std::string_view why) {
  return {std::string(kSqlClientUnableToConnect),
          fmt::format("portcullis: backend of connection \"{}\" is unavailable: {}",
                      connection.name, why)};
}

BackendFailure protocol_failure(const config::ConnectionConfig& connection, std::string_view why) {
  return {std::string(kSqlProtocolViolation),
          fmt::format("portcullis: backend of connection \"{}\" broke the protocol: {}",
                      connection.name, why)};
}

// Reads whole messages from a backend during startup, where nothing is streamed.
class StartupReader {
 public:
  StartupReader(net::Stream& stream, std::size_t max_message)
      : stream_(stream), max_message_(max_message) {}

  // Next message, or an error description.
  asio::awaitable<Result<Message>> next() {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
    for (;;) {
      Message message;
      std::size_t size = 0;
      std::string error;
      const auto status = decode_message(buffer_, max_message_, message, size, error);
      if (status == DecodeStatus::ready) {
        consumed_ = size;
        co_return message;
      }
      if (status == DecodeStatus::invalid) co_return make_error(error);
      char chunk[kStartupReadChunk];
      auto [ec, n] = co_await stream_.read_some(asio::buffer(chunk));
      if (ec) co_return make_error(ec == asio::error::eof ? "connection closed" : ec.message());
      buffer_.append(chunk, n);
    }
  }

  // Whatever was read beyond the last message returned.
  std::string rest() const { return buffer_.substr(consumed_); }

 private:
  net::Stream& stream_;
  std::size_t max_message_;
  std::string buffer_;
  std::size_t consumed_ = 0;
};

asio::awaitable<Result<void>> write_all(net::Stream& stream, const std::string& bytes) {
  auto [ec, n] = co_await stream.write(asio::buffer(bytes));
  if (ec) co_return make_error(ec.message());
  co_return Result<void>{};
}

// A backend's ErrorResponse during startup, turned into what the caller sees. Failed
// authentication is the gateway's configuration problem, not the caller's: say so without
// echoing the backend user.
BackendFailure backend_error(const config::ConnectionConfig& connection, std::string_view body) {
  auto fields = parse_error_fields(body);
  if (!fields) return protocol_failure(connection, fields.error().message);
  const std::string sqlstate(fields->field('C').value_or("08006"));
  if (sqlstate == "28P01" || sqlstate == "28000")
    return {std::string(kSqlClientUnableToConnect),
            fmt::format("portcullis: backend of connection \"{}\" refused the gateway's "
                        "credentials; ask an operator to check the connection's configuration",
                        connection.name)};
  return {sqlstate, std::string(fields->field('M').value_or("backend error"))};
}

// The client side of the TLS negotiation: SSLRequest, then 'S' or 'N'.
asio::awaitable<std::optional<BackendFailure>> negotiate_tls(net::Stream& stream,
                                                             const BackendTarget& target) {
  const auto& connection = *target.connection;
  std::string request;
  append_ssl_request(request);
  if (auto written = co_await write_all(stream, request); !written)
    co_return unavailable(connection, written.error().message);
  char answer = 0;
  auto [ec, n] = co_await stream.read_some(asio::buffer(&answer, 1));
  if (ec) co_return unavailable(connection, ec.message());
  if (answer == 'N') {
    if (connection.target.tls == config::BackendTlsMode::prefer) co_return std::nullopt;
    co_return unavailable(connection,
                          "the backend does not accept TLS, and the connection "
                          "requires it");
  }
  if (answer != 'S') co_return protocol_failure(connection, "unexpected answer to SSLRequest");
  const bool verify = connection.target.tls == config::BackendTlsMode::verify_full;
  auto tls =
      co_await stream.connect_tls(*target.tls_context, connection.target.address.host, verify);
  if (!tls) co_return unavailable(connection, tls.error().message);
  co_return std::nullopt;
}

}  // namespace

asio::awaitable<BackendOutcome> connect_backend(const BackendTarget& target,
                                                const ParameterList& parameters) {
  const auto& connection = *target.connection;
  const auto& credentials = *target.credentials;
  auto executor = co_await asio::this_coro::executor;

  auto stream = std::make_shared<net::Stream>(tcp::socket(executor));
  // The whole set-up has one deadline; on expiry the socket is closed, which fails
  // whatever operation is pending.
  asio::steady_timer deadline(executor);
  deadline.expires_after(target.timeout);
  std::weak_ptr<net::Stream> weak_stream = stream;
  auto timed_out = std::make_shared<bool>(false);
  deadline.async_wait([weak_stream, timed_out](const net::error_code& ec) {
    if (ec) return;
    *timed_out = true;
    if (auto s = weak_stream.lock()) s->close();
  });
  struct CancelOnExit {
    asio::steady_timer& timer;
    ~CancelOnExit() { timer.cancel(); }
  } cancel_on_exit{deadline};
  auto fail = [&](BackendFailure failure) -> BackendOutcome {
    if (*timed_out) return unavailable(connection, "timed out");
    return failure;
  };

  tcp::resolver resolver(executor);
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(
      connection.target.address.host, std::to_string(connection.target.address.port), use_nothrow);
  if (resolve_ec) co_return fail(unavailable(connection, resolve_ec.message()));
  auto [connect_ec, endpoint] =
      co_await asio::async_connect(stream->socket(), endpoints, use_nothrow);
  if (connect_ec) co_return fail(unavailable(connection, connect_ec.message()));
  net::error_code nodelay_ec;  // best effort: latency, not correctness
  stream->socket().set_option(tcp::no_delay(true), nodelay_ec);

  if (connection.target.tls != config::BackendTlsMode::disable) {
    if (auto failure = co_await negotiate_tls(*stream, target)) co_return fail(*failure);
  }

  std::string out;
  append_startup_message(out, parameters);
  if (auto written = co_await write_all(*stream, out); !written)
    co_return fail(unavailable(connection, written.error().message));

  BackendConnection result;
  StartupReader reader(*stream, target.max_message_size);
  std::optional<ScramClient> scram;
  bool scram_verified = false;
  bool authenticated = false;
  for (;;) {
    auto message = co_await reader.next();
    if (!message) co_return fail(unavailable(connection, message.error().message));
    out.clear();
    switch (message->type) {
      case backend::kAuthentication: {
        auto auth = parse_authentication(message->body);
        if (!auth) co_return fail(protocol_failure(connection, auth.error().message));
        switch (auth->code) {
          case AuthCode::ok:
            if (scram && !scram_verified)
              co_return fail(protocol_failure(connection, "SCRAM exchange was not completed"));
            authenticated = true;
            break;
          case AuthCode::cleartext_password:
            // In `prefer` mode an attacker on the path can answer "no TLS" and ask for the
            // password in clear: never send it over a plain connection.
            if (!stream->is_tls())
              co_return fail(unavailable(connection,
                                         "the backend asks for a cleartext password "
                                         "over a connection without TLS; the gateway "
                                         "refuses to send it"));
            if (credentials.password.empty())
              co_return fail(unavailable(connection,
                                         "the backend asks for a password and the "
                                         "credentials have none"));
            append_password_message(out, credentials.password.reveal());
            break;
          case AuthCode::md5_password:
            if (auth->data.size() != 4)
              co_return fail(protocol_failure(connection, "bad md5 salt"));
            append_password_message(
                out,
                md5_password_response(credentials.user, credentials.password.reveal(), auth->data));
            break;
          case AuthCode::sasl: {
            // A list of NUL-terminated mechanism names, ended by an empty one.
            bool offered = false;
            std::string_view rest = auth->data;
            while (!rest.empty()) {
              const auto end = rest.find('\0');
              const auto name = rest.substr(0, end);
              if (name == kScramSha256) offered = true;
              if (end == std::string_view::npos || name.empty()) break;
              rest.remove_prefix(end + 1);
            }
            if (!offered)
              co_return fail(unavailable(connection,
                                         "the backend offers no SASL mechanism the "
                                         "gateway supports (SCRAM-SHA-256)"));
            scram.emplace(credentials.password, make_scram_nonce());
            append_sasl_initial_response(out, kScramSha256, scram->client_first_message());
            break;
          }
          case AuthCode::sasl_continue: {
            if (!scram) co_return fail(protocol_failure(connection, "unexpected SASL message"));
            auto final_message = scram->handle_server_first(auth->data);
            if (!final_message)
              co_return fail(protocol_failure(connection, final_message.error().message));
            append_sasl_response(out, *final_message);
            break;
          }
          case AuthCode::sasl_final: {
            if (!scram) co_return fail(protocol_failure(connection, "unexpected SASL message"));
            auto verified = scram->verify_server_final(auth->data);
            if (!verified) co_return fail(protocol_failure(connection, verified.error().message));
            scram_verified = true;
            break;
          }
          default:
            co_return fail(unavailable(
                connection, fmt::format("the backend asks for an authentication method the "
                                        "gateway does not support (code {})",
                                        static_cast<int32_t>(auth->code))));
        }
        if (!out.empty()) {
          if (auto written = co_await write_all(*stream, out); !written)
            co_return fail(unavailable(connection, written.error().message));
        }
        break;
      }
      case backend::kErrorResponse:
        co_return fail(backend_error(connection, message->body));
      case backend::kParameterStatus: {
        auto status = parse_parameter_status(message->body);
        if (!status) co_return fail(protocol_failure(connection, status.error().message));
        if (status->name == "server_version") result.server_version = status->value;
        if (status->name == "default_transaction_read_only")
          result.read_only = status->value == "on";
        if (!text_reading_is_safe(status->name, status->value))
          co_return fail(unavailable(
              connection, fmt::format("the backend session starts with {} = {}, which makes it "
                                      "read query text differently from the gateway",
                                      status->name, status->value)));
        MessageWriter(result.startup_messages)
            .begin(backend::kParameterStatus)
            .bytes(message->body)
            .finish();
        break;
      }
      case backend::kNoticeResponse:
        MessageWriter(result.startup_messages)
            .begin(backend::kNoticeResponse)
            .bytes(message->body)
            .finish();
        break;
      case backend::kBackendKeyData: {
        auto key = parse_backend_key_data(message->body);
        if (!key) co_return fail(protocol_failure(connection, key.error().message));
        result.key = *key;
        break;
      }
      case backend::kNegotiateProtocolVersion:
        // The gateway asks for 3.0 with no extensions; nothing to adjust.
        break;
      case backend::kReadyForQuery: {
        if (!authenticated)
          co_return fail(protocol_failure(connection, "ReadyForQuery before authentication"));
        auto ready = parse_ready_for_query(message->body);
        if (!ready) co_return fail(protocol_failure(connection, ready.error().message));
        result.transaction_status = ready->transaction_status;
        result.pending = reader.rest();
        result.stream = std::move(stream);
        co_return result;
      }
      default:
        co_return fail(protocol_failure(
            connection, fmt::format("unexpected message '{}' during startup", message->type)));
    }
  }
}

asio::awaitable<void> send_backend_cancel(std::string host, uint16_t port, BackendKeyData key) {
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  auto [resolve_ec, endpoints] =
      co_await resolver.async_resolve(host, std::to_string(port), use_nothrow);
  if (resolve_ec) {
    spdlog::warn("event=cancel_failed backend={}:{} error=\"{}\"", host, port,
                 resolve_ec.message());
    co_return;
  }
  tcp::socket socket(executor);
  auto [connect_ec, endpoint] = co_await asio::async_connect(socket, endpoints, use_nothrow);
  if (connect_ec) {
    spdlog::warn("event=cancel_failed backend={}:{} error=\"{}\"", host, port,
                 connect_ec.message());
    co_return;
  }
  // PostgreSQL reads a cancel request before any TLS negotiation and consults no pg_hba
  // rule for it, so a plain one works whatever the connection's TLS setting.
  std::string request;
  append_cancel_request(request, CancelRequest{key.process_id, key.secret_key});
  co_await asio::async_write(socket, asio::buffer(request), use_nothrow);
  // The server closes the connection after reading the request; wait for that so the
  // request is not cut off.
  char ignored;
  co_await socket.async_read_some(asio::buffer(&ignored, 1), use_nothrow);
}

}  // namespace portcullis::proto::postgres
