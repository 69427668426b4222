// A session's start: the gateway's greeting, TLS when the client asks, the caller's token read
// through an auth switch to mysql_clear_password, admission by the gateway core, the backend
// opened with the gateway's credentials (read-only when the grant is), and the OK.
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "proto/mysql/error_codes.h"
#include "proto/mysql/session.h"

namespace portcullis::proto::mysql {
namespace asio = boost::asio;

namespace {

// What the gateway calls itself in its greeting. The backend is not known yet (the client
// names the connection in its answer): a MariaDB 10.11-compatible server, as MariaDB's
// "5.5.5-" prefix tells old MySQL clients. `SELECT VERSION()` shows the backend's own.
constexpr std::string_view kGreetingVersion = "5.5.5-10.11.99-MariaDB-portcullis";
// Largest answer a client sends during the handshake: a token of a few KiB, attributes.
constexpr std::size_t kMaxHandshakePacket = 64 * 1024;

// Character sets whose multi-byte characters may contain the bytes of a backslash or a quote
// (big5, sjis, cp932, gbk, gb18030): the gateway's lexer reads text byte by byte and could
// see a quote end where the server sees a character.
bool unsafe_charset(uint8_t id) {
  switch (id) {
    case 1:
    case 84:  // big5
    case 13:
    case 88:  // sjis
    case 95:
    case 96:  // cp932
    case 28:
    case 87:  // gbk
    case 248:
    case 249:
    case 250:  // gb18030
      return true;
    default:
      return false;
  }
}

std::string make_scramble() {
  unsigned char raw[kScrambleSize];
  RAND_bytes(raw, sizeof raw);
  std::string scramble(kScrambleSize, '\0');
  // Printable bytes, as servers send: clients treat a NUL as the end of it.
  for (std::size_t i = 0; i < kScrambleSize; ++i)
    scramble[i] = static_cast<char>(0x21 + raw[i] % 94);
  return scramble;
}

// 10.11.6-MariaDB-0+deb12u1 → 101106, 8.0.35 → 80035 (how versioned comments are compared).
uint32_t version_number(std::string_view version) {
  if (version.starts_with("5.5.5-")) version.remove_prefix(6);
  uint32_t parts[3] = {0, 0, 0};
  std::size_t part = 0;
  for (char c : version) {
    if (c >= '0' && c <= '9') {
      parts[part] = parts[part] * 10 + static_cast<uint32_t>(c - '0');
    } else if (c == '.' && part < 2) {
      ++part;
    } else {
      break;
    }
  }
  return parts[0] * 10000 + parts[1] * 100 + parts[2];
}

// The name of the configuration's one mysql connection, or empty when it has none or several.
std::string only_mysql_connection(const config::Config& config) {
  std::string found;
  for (const auto& c : config.connections) {
    if (c.kind != config::ConnectionKind::mysql) continue;
    if (!found.empty()) return {};
    found = c.name;
  }
  return found;
}

}  // namespace

asio::awaitable<bool> Session::handshake() {
  const auto& context = gate_.context();
  Greeting greeting{
      .server_version = std::string(kGreetingVersion),
      .thread_id = thread_id_,
      .scramble = make_scramble(),
      .capabilities = kRelayedCapabilities | (context.client_tls ? capability::kSsl : 0),
      .charset = kDefaultCharset,
      .status = status::kAutocommit,
      .auth_plugin = std::string(kNativePassword)};
  client_->set_next_sequence(0);
  client_->queue(encode_greeting(greeting));
  if (!co_await flush_client()) co_return false;

  auto fail = [&](ErrorCode code, std::string message) -> asio::awaitable<bool> {
    client_->set_next_sequence(static_cast<uint8_t>(client_->last_sequence() + 1));
    queue_error(code.code, code.sql_state, message);
    co_await flush_client();
    co_return false;
  };

  auto packet = co_await client_->read();
  if (!packet) co_return false;  // gone before answering: nothing to report
  if (packet->size() > kMaxHandshakePacket)
    co_return co_await fail(kHandshake, "portcullis: handshake packet too large");
  if (is_ssl_request(*packet)) {
    if (!context.client_tls)
      co_return co_await fail(kHandshake, "portcullis: TLS is not configured on this gateway");
    // MySQL has no answer to an SSLRequest: the client sends its TLS ClientHello right behind
    // it, and one read may have taken both. Those bytes are the handshake's, read by TLS (which
    // refuses anything that is not a TLS record), never as packets.
    const std::string early = client_->take_unread_bytes();
    auto tls = co_await client_->stream().accept_tls(*context.client_tls, early);
    if (!tls) {
      spdlog::info("event=tls_failed session={} client={} error={:?}", id_, client_address_,
                   tls.error().message);
      co_return false;
    }
    packet = co_await client_->read();
    if (!packet) co_return false;
    if (packet->size() > kMaxHandshakePacket)
      co_return co_await fail(kHandshake, "portcullis: handshake packet too large");
  }
  auto response = decode_handshake_response(*packet);
  if (!response) co_return co_await fail(kHandshake, "portcullis: " + response.error().message);
  if (response->capabilities & capability::kCompress)
    co_return co_await fail(kNotSupported,
                            "portcullis: compressed connections are not supported through the "
                            "gateway, which reads every command; connect without --compress");
  if (unsafe_charset(response->charset))
    co_return co_await fail(kHandshake,
                            "portcullis: this character set is not supported through the "
                            "gateway (big5, sjis, cp932, gbk and gb18030 can hide quotes in "
                            "characters); use utf8mb4");
  capabilities_ = response->capabilities & kRelayedCapabilities;
  multi_statements_ = (capabilities_ & capability::kMultiStatements) != 0;

  const std::string subject = response->user;
  // The database names the connection. Tools that connect without one and USE it afterwards
  // (mariadb-dump) reach the only mysql connection, when there is only one.
  std::string connection = response->database;
  if (connection.empty()) connection = only_mysql_connection(*context.config);
  if (auto refused =
          gateway::check_transport(context, gate_.recorder(), caller(), subject, connection))
    co_return co_await fail(error_code_of(refused->reason),
                            "portcullis: " + refused->message + "; connect with --ssl");
  if (subject.empty())
    co_return co_await fail(kAccessDenied, "portcullis: authentication failed: no user name");

  // The token, asked for in clear: TLS (or loopback) protects it.
  std::string password;
  if (response->auth_plugin == kClearPassword) {
    password = response->auth_response;
  } else {
    if (!(response->capabilities & capability::kPluginAuth))
      co_return co_await fail(kAccessDenied,
                              "portcullis: authentication failed: the client cannot send a token "
                              "(it has no plugin authentication)");
    client_->set_next_sequence(static_cast<uint8_t>(client_->last_sequence() + 1));
    client_->queue(encode_auth_switch({.plugin = std::string(kClearPassword), .data = {}}));
    if (!co_await flush_client()) co_return false;
    auto answer = co_await client_->read();
    // A client without the token closes here (MySQL's own client without
    // --enable-cleartext-plugin says why).
    if (!answer) co_return false;
    password = std::string(*answer);
  }
  while (!password.empty() && password.back() == '\0') password.pop_back();
  const Secret credential{std::move(password)};
  OPENSSL_cleanse(response->auth_response.data(), response->auth_response.size());

  auto admitted =
      gateway::admit(context, gate_.recorder(), caller(), credential, subject, connection);
  if (auto* refused = std::get_if<gateway::Refusal>(&admitted)) {
    ErrorCode code = error_code_of(refused->reason);
    // An unknown connection is an unknown database to a MySQL client.
    if (refused->reason == gateway::RefusalReason::access_denied &&
        !context.config->find_connection(connection))
      code = kBadDb;
    co_return co_await fail(code, "portcullis: " + refused->message);
  }
  co_return co_await connect_and_welcome(std::move(std::get<gateway::Admitted>(admitted)),
                                         *response);
}

asio::awaitable<bool> Session::connect_and_welcome(gateway::Admitted admitted,
                                                   const HandshakeResponse& response) {
  const auto& context = gate_.context();
  auto& [identity, grant] = admitted;
  const uint8_t reply_sequence = static_cast<uint8_t>(client_->last_sequence() + 1);
  auto fail = [&](uint16_t code, std::string_view state,
                  std::string message) -> asio::awaitable<bool> {
    client_->set_next_sequence(reply_sequence);
    queue_error(code, state, message);
    co_await flush_client();
    co_return false;
  };

  const auto tls = context.backend_tls.find(grant.connection->name);
  backend_target_ =
      BackendTarget{.connection = grant.connection,
                    .credentials = grant.credentials,
                    .tls_context = tls == context.backend_tls.end() ? nullptr : tls->second.get(),
                    .max_message_size = context.config->limits.max_message_size,
                    .timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
                        context.config->limits.handshake_timeout),
                    .client_capabilities = capabilities_,
                    .charset = response.charset,
                    .attributes = response.attributes};
  auto outcome = co_await connect_backend(backend_target_);
  if (auto* failure = std::get_if<BackendFailure>(&outcome)) {
    spdlog::warn("event=backend_failed session={} subject={:?} connection={:?} reason={:?}", id_,
                 identity.subject, grant.connection->name, failure->message);
    gate_.recorder().connect_refused(identity.subject, grant.connection->name, failure->message,
                                     identity.credential);
    co_return co_await fail(failure->code, failure->sql_state, failure->message);
  }
  auto& backend = std::get<BackendConnection>(outcome);
  backend_ = std::move(backend.channel);
  backend_greeting_ = std::move(backend.greeting);
  // What the backend lacks, the client does not get either.
  capabilities_ &= backend.capabilities | capability::kLongPassword;
  backend_status_ = backend.status;
  reading_.mariadb = backend_greeting_.mariadb() ||
                     backend_greeting_.server_version.find("MariaDB") != std::string::npos;
  reading_.server_version = version_number(backend_greeting_.server_version);
  if (ended_) co_return false;

  // A read-only grant is enforced twice: by the decision point, and by the backend session
  // itself. The caller cannot lift it: statements that would are refused.
  if (policy::is_read_only(grant)) {
    auto set = co_await run_internal("SET SESSION TRANSACTION READ ONLY");
    if (!set) {
      gate_.recorder().connect_refused(identity.subject, grant.connection->name,
                                       set.error().message, identity.credential);
      co_return co_await fail(
          kUnknownError.code, kUnknownError.sql_state,
          "portcullis: the backend session could not be made read-only: " + set.error().message);
    }
    backend_read_only_ = true;
  }
  if (auto settings = co_await read_text_settings(); !settings) {
    gate_.recorder().connect_refused(identity.subject, grant.connection->name,
                                     settings.error().message, identity.credential);
    co_return co_await fail(kUnknownError.code, kUnknownError.sql_state,
                            "portcullis: " + settings.error().message);
  }

  std::weak_ptr<Session> weak = shared_from_this();
  kill_target_ = std::make_shared<KillTarget>(
      KillTarget{.subject = identity.subject,
                 .executor = client_->stream().get_executor(),
                 .kill = [weak](bool connection) {
                   auto self = weak.lock();
                   if (!self) return;
                   if (connection)
                     self->end({.reason = gateway::RefusalReason::session_ended,
                                .rule = {},
                                .message = "the connection was killed by its owner"});
                   else
                     self->kill_query();
                 }});
  thread_ids_->add(thread_id_, kill_target_);
  gate_.open(weak, std::move(identity), std::move(grant), client_address_,
             [this](const gateway::Refusal& why) { end(why); });

  client_->set_next_sequence(reply_sequence);
  queue_ok(backend_status_);
  if (!co_await flush_client()) co_return false;

  const auto& who = gate_.identity();
  const auto& granted = gate_.grant();
  spdlog::info(
      "event=session_start session={} client={} subject={:?} kind={} auth={} connection={:?} "
      "access_rule={} backend_user={:?} backend_version={:?} client_tls={} backend_tls={}",
      id_, client_address_, who.subject, identity::to_string(who.kind),
      identity::to_string(who.method), granted.connection->name, granted.rule,
      granted.credentials->user, backend_greeting_.server_version, client_->stream().tls_version(),
      backend_->stream().tls_version());
  co_return true;
}

asio::awaitable<Result<std::vector<std::string>>> Session::run_internal(std::string_view sql) {
  std::string payload(1, static_cast<char>(CommandCode::query));
  payload.append(sql);
  backend_->set_next_sequence(0);
  backend_->queue(payload);
  if (auto sent = co_await backend_->flush(); !sent) co_return sent.error();
  std::vector<std::string> values;
  bool more = true;
  while (more) {
    more = false;
    auto first = co_await backend_->read();
    if (!first) co_return first.error();
    const std::string_view head = *first;
    const uint8_t header = head.empty() ? 0xff : static_cast<uint8_t>(head[0]);
    if (header == kErrHeader) {
      auto err = decode_err(head);
      co_return Error{err ? fmt::format("{} failed: {}", sql, err->message)
                          : std::string("malformed error from the backend")};
    }
    if (header == kOkHeader) {
      auto ok = decode_ok(head, capabilities_);
      if (!ok) co_return ok.error();
      backend_status_ = ok->status;
      more = (ok->status & status::kMoreResultsExist) != 0;
      continue;
    }
    PacketReader count_reader(head);
    const uint64_t columns = count_reader.lenenc_int();
    if (!count_reader.ok() || columns == 0) co_return Error{"malformed result from the backend"};
    for (uint64_t i = 0; i < columns; ++i)
      if (auto column = co_await backend_->read(); !column) co_return column.error();
    if (!(capabilities_ & capability::kDeprecateEof))
      if (auto eof = co_await backend_->read(); !eof) co_return eof.error();
    for (;;) {
      auto row = co_await backend_->read();
      if (!row) co_return row.error();
      if (is_result_end(*row, capabilities_)) {
        const uint16_t end_status = result_end_status(*row, capabilities_);
        backend_status_ = end_status;
        more = (end_status & status::kMoreResultsExist) != 0;
        break;
      }
      if (!row->empty() && static_cast<uint8_t>((*row)[0]) == kErrHeader)
        co_return Error{fmt::format("{} failed", sql)};
      PacketReader r(*row);
      auto value = r.lenenc_string_or_null();
      values.emplace_back(value ? std::string(*value) : std::string());
    }
  }
  co_return values;
}

asio::awaitable<Result<void>> Session::read_text_settings() {
  reread_text_settings_ = false;
  auto mode = co_await run_internal("SELECT @@SESSION.sql_mode");
  if (!mode) co_return mode.error();
  if (mode->size() != 1) co_return Error{"the backend did not report its sql_mode"};
  const std::string& modes = mode->front();
  auto has_mode = [&](std::string_view name) {
    std::size_t at = 0;
    while ((at = modes.find(name, at)) != std::string::npos) {
      const bool starts = at == 0 || modes[at - 1] == ',';
      const std::size_t end = at + name.size();
      if (starts && (end == modes.size() || modes[end] == ',')) return true;
      at = end;
    }
    return false;
  };
  // MariaDB's ORACLE mode reads text with another grammar altogether: the gateway cannot
  // follow it, and the session ends rather than guess.
  if (has_mode("ORACLE")) co_return Error{"sql_mode ORACLE is not supported through the gateway"};
  reading_.no_backslash_escapes = has_mode("NO_BACKSLASH_ESCAPES");
  // ANSI mode includes ANSI_QUOTES; the server expands it in @@sql_mode, but be safe.
  reading_.ansi_quotes = has_mode("ANSI_QUOTES") || has_mode("ANSI");
  co_return Result<void>{};
}

}  // namespace portcullis::proto::mysql
