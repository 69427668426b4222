// Backend connection set-up and authentication.
#include "proto/mysql/backend_connector.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "proto/mysql/auth_scramble.h"
#include "proto/mysql/error_codes.h"
#include "proto/mysql/response.h"

namespace portcullis::proto::mysql {
namespace asio = boost::asio;
using net::use_nothrow;
using tcp = asio::ip::tcp;

namespace {

// The gateway's own maximum packet size, as a client announces it: 1 GiB, the server's
// largest max_allowed_packet.
constexpr uint32_t kMaxPacketAnnounced = 1u << 30;
// Authentication exchanges are short: a few round trips at most.
constexpr int kMaxAuthRounds = 8;

BackendFailure unavailable(const config::ConnectionConfig& connection, std::string_view why) {
  return {.code = kUnknownError.code,
          .sql_state = "08S01",
          .message = fmt::format("portcullis: backend of connection \"{}\" is unavailable: {}",
                                 connection.name, why)};
}

BackendFailure protocol_failure(const config::ConnectionConfig& connection, std::string_view why) {
  return {.code = kHandshake.code,
          .sql_state = std::string(kHandshake.sql_state),
          .message = fmt::format("portcullis: backend of connection \"{}\" broke the protocol: {}",
                                 connection.name, why)};
}

// A backend's ERR during set-up, as the caller sees it. Refused credentials are the gateway's
// configuration problem, not the caller's: said without the backend user.
BackendFailure backend_error(const config::ConnectionConfig& connection, std::string_view payload) {
  auto err = decode_err(payload);
  if (!err) return protocol_failure(connection, err.error().message);
  if (err->code == 1045 || err->code == 1698 || err->sql_state == "28000")
    return {.code = kAccessDenied.code,
            .sql_state = "08004",
            .message = fmt::format("portcullis: backend of connection \"{}\" refused the "
                                   "gateway's credentials; ask an operator to check the "
                                   "connection's configuration",
                                   connection.name)};
  return {.code = err->code, .sql_state = err->sql_state, .message = err->message};
}

// The first answer to a password plugin, or nullopt for a plugin the gateway does not speak.
std::optional<std::string> plugin_answer(std::string_view plugin, std::string_view password,
                                         std::string_view scramble, bool tls) {
  if (plugin == kNativePassword || plugin.empty())
    return native_password_response(password, scramble);
  if (plugin == kCachingSha2Password) return caching_sha2_response(password, scramble);
  if (plugin == kClearPassword && tls) return std::string(password) + '\0';
  if (plugin == kEd25519) return ed25519_response(password, scramble);
  return std::nullopt;
}

}  // namespace

asio::awaitable<BackendOutcome> connect_backend(const BackendTarget& target) {
  const auto& connection = *target.connection;
  const auto& credentials = *target.credentials;
  auto executor = co_await asio::this_coro::executor;

  auto stream = std::make_shared<net::Stream>(tcp::socket(executor));
  // The whole set-up has one deadline; on expiry the socket is closed, which fails whatever
  // operation is pending.
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

  BackendConnection result;
  result.channel = std::make_unique<PacketChannel>(stream, target.max_message_size);
  PacketChannel& channel = *result.channel;
  auto greeting_payload = co_await channel.read();
  if (!greeting_payload) co_return fail(unavailable(connection, greeting_payload.error().message));
  if (!greeting_payload->empty() && static_cast<uint8_t>((*greeting_payload)[0]) == kErrHeader)
    co_return fail(backend_error(connection, *greeting_payload));
  auto greeting = decode_greeting(*greeting_payload);
  if (!greeting) co_return fail(protocol_failure(connection, greeting.error().message));
  result.greeting = std::move(*greeting);
  const Greeting& g = result.greeting;
  if (!(g.capabilities & capability::kProtocol41))
    co_return fail(unavailable(connection, "the backend speaks a protocol older than 4.1"));

  // What the session will use: what the client asked for, of what the gateway relays, that
  // the backend offers; protocol 4.1 framing and plugin authentication always.
  Capabilities wanted =
      (target.client_capabilities & kRelayedCapabilities) | capability::kProtocol41 |
      capability::kSecureConnection | capability::kPluginAuth | capability::kPluginAuthLenencData |
      capability::kConnectWithDb | capability::kTransactions | capability::kMultiResults;
  wanted &= g.capabilities | capability::kLongPassword;
  // kLongPassword is how a MariaDB client announces itself as one that reads MariaDB's
  // extended capabilities: cleared when the backend is MariaDB (none are asked for).
  if (g.mariadb()) wanted &= ~capability::kLongPassword;
  if (target.attributes.empty()) wanted &= ~capability::kConnectAttrs;
  uint8_t sequence = static_cast<uint8_t>(channel.last_sequence() + 1);

  bool tls = false;
  const auto mode = connection.target.tls;
  if (mode != config::BackendTlsMode::disable && target.tls_context) {
    if (g.capabilities & capability::kSsl) {
      HandshakeResponse request;
      request.capabilities = wanted | capability::kSsl;
      request.max_packet = kMaxPacketAnnounced;
      request.charset = target.charset;
      channel.set_next_sequence(sequence);
      channel.queue(encode_handshake_response(request, true));
      sequence = channel.next_sequence();
      if (auto sent = co_await channel.flush(); !sent)
        co_return fail(unavailable(connection, sent.error().message));
      const bool verify = mode == config::BackendTlsMode::verify_full;
      auto handshake =
          co_await stream->connect_tls(*target.tls_context, connection.target.address.host, verify);
      if (!handshake) co_return fail(unavailable(connection, handshake.error().message));
      wanted |= capability::kSsl;
      tls = true;
    } else if (mode != config::BackendTlsMode::prefer) {
      co_return fail(unavailable(
          connection, "the backend does not accept TLS, and the connection requires it"));
    }
  }
  result.capabilities = wanted;

  const std::string_view password = credentials.password.reveal();
  std::string plugin = g.auth_plugin.empty() ? std::string(kNativePassword) : g.auth_plugin;
  std::string scramble = g.scramble;
  // client_ed25519 signs the nonce of its own auth switch, never the greeting's scramble.
  auto answer = plugin == kEd25519 ? std::nullopt : plugin_answer(plugin, password, scramble, tls);
  if (!answer) {
    // Answer with the native method: the backend switches to the user's own method.
    plugin = std::string(kNativePassword);
    answer = native_password_response(password, scramble);
  }
  HandshakeResponse response{.capabilities = wanted,
                             .max_packet = kMaxPacketAnnounced,
                             .charset = target.charset,
                             .user = credentials.user,
                             .auth_response = std::move(*answer),
                             .database = connection.target.database,
                             .auth_plugin = plugin,
                             .attributes = target.attributes};
  channel.set_next_sequence(sequence);
  std::string encoded = encode_handshake_response(response);
  channel.queue(encoded);
  OPENSSL_cleanse(encoded.data(), encoded.size());
  OPENSSL_cleanse(response.auth_response.data(), response.auth_response.size());
  if (auto sent = co_await channel.flush(); !sent)
    co_return fail(unavailable(connection, sent.error().message));

  for (int round = 0; round < kMaxAuthRounds; ++round) {
    auto packet = co_await channel.read();
    if (!packet) co_return fail(unavailable(connection, packet.error().message));
    const std::string_view payload = *packet;
    channel.set_next_sequence(static_cast<uint8_t>(channel.last_sequence() + 1));
    const uint8_t header = payload.empty() ? 0xff : static_cast<uint8_t>(payload[0]);
    if (header == kOkHeader) {
      auto ok = decode_ok(payload, wanted);
      if (!ok) co_return fail(protocol_failure(connection, ok.error().message));
      result.status = ok->status;
      co_return std::move(result);
    }
    if (header == kErrHeader) co_return fail(backend_error(connection, payload));
    std::string reply;
    if (header == kEofHeader) {
      auto request = decode_auth_switch(payload);
      if (!request) co_return fail(protocol_failure(connection, request.error().message));
      auto switched = plugin_answer(request->plugin, password, request->data, tls);
      if (!switched) {
        const bool clear = request->plugin == kClearPassword;
        co_return fail(unavailable(
            connection,
            clear ? std::string("the backend asks for the password in clear over a connection "
                                "without TLS; the gateway refuses to send it")
                  : fmt::format("the backend asks for the authentication method \"{}\", which "
                                "the gateway does not speak (it speaks mysql_native_password, "
                                "caching_sha2_password, client_ed25519 and mysql_clear_password "
                                "over TLS)",
                                request->plugin)));
      }
      plugin = request->plugin;
      scramble = request->data;
      reply = std::move(*switched);
    } else if (header == kAuthMoreDataHeader && plugin == kCachingSha2Password) {
      const std::string_view data = payload.substr(1);
      if (data.size() == 1 && data[0] == kFastAuthSuccess) continue;  // an OK follows
      if (data.size() == 1 && data[0] == kFullAuthRequired) {
        if (tls) {
          reply = std::string(password) + '\0';
        } else {
          reply = std::string(1, kRequestPublicKey);
        }
      } else if (data.starts_with("-----BEGIN")) {
        auto encrypted = rsa_encrypted_password(password, scramble, data);
        if (!encrypted) co_return fail(unavailable(connection, encrypted.error().message));
        reply = std::move(*encrypted);
      } else {
        co_return fail(protocol_failure(connection, "unexpected caching_sha2_password data"));
      }
    } else {
      co_return fail(protocol_failure(
          connection, fmt::format("unexpected packet 0x{:02x} during authentication", header)));
    }
    channel.queue(reply);
    OPENSSL_cleanse(reply.data(), reply.size());
    if (auto sent = co_await channel.flush(); !sent)
      co_return fail(unavailable(connection, sent.error().message));
  }
  co_return fail(protocol_failure(connection, "authentication did not end"));
}

}  // namespace portcullis::proto::mysql
