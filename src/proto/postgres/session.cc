// The life of one PostgreSQL client connection: handshake, authentication, backend set-up,
// and the two relay pumps with the decision point on the client side.
#include "proto/postgres/session.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "net/byte_buffer.h"
#include "proto/postgres/backend_connector.h"
#include "proto/postgres/decoder.h"
#include "proto/postgres/startup_parameters.h"

namespace portcullis::proto::postgres {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using net::use_nothrow;

namespace {

// SQLSTATEs the gateway uses (PostgreSQL's src/backend/utils/errcodes.txt).
constexpr std::string_view kSqlInvalidAuthorization = "28000";
constexpr std::string_view kSqlInvalidPassword = "28P01";
constexpr std::string_view kSqlInsufficientPrivilege = "42501";
constexpr std::string_view kSqlProtocolViolation = "08P01";
constexpr std::string_view kSqlFeatureNotSupported = "0A000";
constexpr std::string_view kSqlIdleSessionTimeout = "57P05";
constexpr std::string_view kSqlInvalidCursorName = "34000";

// First read size of each direction; grows for whole messages that must be inspected.
// 16 KiB holds most query texts and a good batch of rows, and keeps idle sessions small.
constexpr std::size_t kRelayBufferSize = 16 * 1024;
// Upper bound on a PasswordMessage: a token with many group claims fits easily.
constexpr std::size_t kMaxPasswordMessage = 64 * 1024;

std::string make_session_id() {
  unsigned char raw[8];
  RAND_bytes(raw, sizeof raw);
  return fmt::format("{:02x}", fmt::join(raw, raw + sizeof raw, ""));
}

std::string error_response(std::string_view sqlstate, std::string_view message,
                           Severity severity = Severity::error) {
  std::string out;
  append_error_response(out, ErrorMessage{severity, sqlstate, message, {}, {}});
  return out;
}

// Client messages that must be read whole: they become commands or change the state the
// decision point relies on. Everything else (CopyData above all) streams through.
bool inspected(char type) {
  switch (type) {
    case frontend::kQuery:
    case frontend::kParse:
    case frontend::kBind:
    case frontend::kExecute:
    case frontend::kClose:
    case frontend::kSync:
    case frontend::kFunctionCall:
    case frontend::kTerminate:
      return true;
    default:
      return false;
  }
}

// A byte range to forward: from the read buffer, or from bytes the gateway made.
struct Segment {
  bool synthetic;
  std::size_t offset;
  std::size_t size;
};

void add_segment(std::vector<Segment>& segments, bool synthetic, std::size_t offset,
                 std::size_t size) {
  if (size == 0) return;
  auto& last =
      segments.empty() ? segments.emplace_back(Segment{synthetic, offset, 0}) : segments.back();
  if (last.synthetic == synthetic && last.offset + last.size == offset) {
    last.size += size;
  } else {
    segments.push_back(Segment{synthetic, offset, size});
  }
}

std::vector<asio::const_buffer> to_buffers(const std::vector<Segment>& segments,
                                           std::string_view input, const std::string& synthetic) {
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(segments.size());
  for (const auto& s : segments)
    buffers.emplace_back(s.synthetic ? synthetic.data() + s.offset : input.data() + s.offset,
                         s.size);
  return buffers;
}

}  // namespace

Session::Session(asio::ip::tcp::socket client, std::shared_ptr<const GatewayContext> context,
                 std::shared_ptr<CancelRegistry> cancels, bool loopback_listener)
    : context_(std::move(context)),
      cancels_(std::move(cancels)),
      loopback_listener_(loopback_listener),
      id_(make_session_id()),
      started_(std::chrono::steady_clock::now()),
      client_write_lock_(client.get_executor()) {
  net::error_code ec;
  const auto remote = client.remote_endpoint(ec);
  client_address_ =
      ec ? "unknown" : fmt::format("{}:{}", remote.address().to_string(), remote.port());
  client.set_option(asio::ip::tcp::no_delay(true), ec);
  client_ = std::make_shared<net::Stream>(std::move(client));
  last_client_activity_ = started_;
}

Session::~Session() {
  if (gateway_key_) cancels_->remove(gateway_key_->process_id);
}

asio::awaitable<void> Session::run() {
  auto self = shared_from_this();
  const auto& limits = context_->config->limits;
  auto executor = co_await asio::this_coro::executor;

  // The whole handshake has one deadline: slow or silent clients do not hold a slot.
  asio::steady_timer deadline(executor);
  deadline.expires_after(limits.handshake_timeout);
  std::weak_ptr<Session> weak = self;
  deadline.async_wait([weak, timeout = limits.handshake_timeout](const net::error_code& ec) {
    if (ec) return;
    if (auto session = weak.lock()) {
      spdlog::info("event=handshake_timeout session={} client={} timeout_ms={}", session->id_,
                   session->client_address_, timeout.count());
      session->client_->close();
      if (session->backend_) session->backend_->close();
    }
  });
  const bool ready = co_await handshake();
  deadline.cancel();
  if (ready && !terminated_) co_await relay();

  client_->close();
  if (backend_) backend_->close();
  if (identity_) {
    const auto elapsed = std::chrono::steady_clock::now() - started_;
    spdlog::info(
        "event=session_end session={} subject={} connection={} duration_ms={} commands={} "
        "bytes_from_client={} bytes_to_client={}",
        id_, identity_->subject, grant_ ? grant_->connection->name : "",
        std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), commands_,
        bytes_from_client_, bytes_to_client_);
  }
}

void Session::terminate(std::string_view sqlstate, std::string message) {
  if (terminated_) return;
  terminated_ = true;
  auto self = shared_from_this();
  asio::co_spawn(
      client_->get_executor(),
      [self,
       bytes = error_response(sqlstate, message, Severity::fatal)]() -> asio::awaitable<void> {
        if (self->identity_) {
          // Only once the session is past its handshake does the client expect messages.
          co_await self->write_to_client(bytes);
        }
        self->client_->close();
        if (self->backend_) self->backend_->close();
      },
      asio::detached);
}

bool Session::plaintext_allowed() const {
  if (!context_->config->tls) return loopback_listener_;
  switch (context_->config->tls->plaintext) {
    case policy::PlaintextPolicy::allow:
      return true;
    case policy::PlaintextPolicy::never:
      return false;
    case policy::PlaintextPolicy::loopback:
      return loopback_listener_;
  }
  return false;
}

asio::awaitable<void> Session::write_to_client(std::string bytes) {
  co_await client_write_lock_.lock();
  auto [ec, n] = co_await client_->write(asio::buffer(bytes));
  client_write_lock_.unlock();
  if (!ec) bytes_to_client_ += n;
}

asio::awaitable<void> Session::fail(std::string_view sqlstate, std::string message) {
  co_await write_to_client(error_response(sqlstate, message, Severity::fatal));
  client_->close();
}

asio::awaitable<bool> Session::handshake() {
  const auto& limits = context_->config->limits;
  std::string buffer;
  char chunk[4096];
  for (;;) {
    StartupPacket packet;
    std::size_t consumed = 0;
    std::string error;
    const auto status =
        decode_startup_packet(buffer, limits.max_startup_packet, packet, consumed, error);
    if (status == DecodeStatus::invalid) {
      spdlog::info("event=bad_startup session={} client={} error=\"{}\"", id_, client_address_,
                   error);
      co_await fail(kSqlProtocolViolation, "portcullis: " + error);
      co_return false;
    }
    if (status == DecodeStatus::need_more) {
      auto [ec, n] = co_await client_->read_some(asio::buffer(chunk));
      if (ec) co_return false;  // gone before saying anything useful: nothing to report
      bytes_from_client_ += n;
      buffer.append(chunk, n);
      continue;
    }
    buffer.erase(0, consumed);

    if (std::holds_alternative<SslRequest>(packet)) {
      const bool offer = context_->client_tls && !client_->is_tls();
      auto [ec, n] = co_await client_->write(asio::buffer(offer ? "S" : "N", 1));
      if (ec) co_return false;
      if (offer) {
        // Bytes sent after SSLRequest but before the handshake would be read as if they had
        // been encrypted (CVE-2021-23214): refuse them.
        if (!buffer.empty()) {
          co_await fail(kSqlProtocolViolation, "portcullis: unencrypted data after SSLRequest");
          co_return false;
        }
        auto tls = co_await client_->accept_tls(*context_->client_tls);
        if (!tls) {
          spdlog::info("event=tls_failed session={} client={} error=\"{}\"", id_, client_address_,
                       tls.error().message);
          co_return false;
        }
      }
      continue;
    }
    if (std::holds_alternative<GssEncRequest>(packet)) {
      // No GSSAPI encryption: 'N' makes libpq go on with SSL or plain startup.
      auto [ec, n] = co_await client_->write(asio::buffer("N", 1));
      if (ec) co_return false;
      continue;
    }
    if (const auto* cancel = std::get_if<CancelRequest>(&packet)) {
      co_await handle_cancel(*cancel);
      co_return false;
    }
    auto& startup = std::get<StartupMessage>(packet);
    if ((startup.protocol_version >> 16) != 3) {
      co_await fail(kSqlFeatureNotSupported,
                    fmt::format("portcullis: unsupported frontend protocol {}.{}: the gateway "
                                "speaks 3.0",
                                startup.protocol_version >> 16, startup.protocol_version & 0xffff));
      co_return false;
    }
    if ((startup.protocol_version & 0xffff) != 0) {
      // A newer 3.x client: tell it the gateway speaks 3.0 and no protocol extensions, as
      // PostgreSQL does with NegotiateProtocolVersion.
      std::string out;
      MessageWriter writer(out);
      writer.begin(backend::kNegotiateProtocolVersion)
          .int32(static_cast<int32_t>(kProtocolVersion3));
      std::vector<std::string_view> extensions;
      for (const auto& [name, value] : startup.parameters)
        if (name.starts_with("_pq_.")) extensions.push_back(name);
      writer.int32(static_cast<int32_t>(extensions.size()));
      for (auto name : extensions) writer.cstring(name);
      writer.finish();
      co_await write_to_client(std::move(out));
    }
    co_return co_await authenticate_and_connect(startup);
  }
}

asio::awaitable<bool> Session::authenticate_and_connect(const StartupMessage& startup) {
  const auto& config = *context_->config;
  if (!client_->is_tls() && !plaintext_allowed()) {
    co_await fail(kSqlInvalidAuthorization,
                  "portcullis: this listener requires TLS; connect with sslmode=require or "
                  "stronger");
    co_return false;
  }
  const auto user = startup.parameter("user");
  if (!user || user->empty()) {
    co_await fail(kSqlInvalidAuthorization, "portcullis: no user name in the startup packet");
    co_return false;
  }
  // libpq's default database name is the user name, as PostgreSQL's.
  const std::string connection_name(startup.parameter("database").value_or(*user));
  const std::string subject(*user);

  // Ask for the token as a cleartext password; TLS (or loopback) protects it.
  {
    std::string out;
    append_authentication(out, AuthCode::cleartext_password);
    auto [ec, n] = co_await client_->write(asio::buffer(out));
    if (ec) co_return false;
  }
  std::string buffer;
  Message message;
  for (;;) {
    std::size_t consumed = 0;
    std::string error;
    const auto status = decode_message(buffer, kMaxPasswordMessage, message, consumed, error);
    if (status == DecodeStatus::ready) break;
    if (status == DecodeStatus::invalid) {
      co_await fail(kSqlProtocolViolation, "portcullis: " + error);
      co_return false;
    }
    char chunk[4096];
    auto [ec, n] = co_await client_->read_some(asio::buffer(chunk));
    // psql closes here when it has no password yet, to prompt for one and reconnect.
    if (ec) co_return false;
    bytes_from_client_ += n;
    buffer.append(chunk, n);
  }
  if (message.type != frontend::kPassword) {
    co_await fail(kSqlProtocolViolation, "portcullis: expected a password message");
    co_return false;
  }
  auto password = parse_password(message.body);
  if (!password) {
    co_await fail(kSqlProtocolViolation, "portcullis: " + password.error().message);
    co_return false;
  }
  const Secret credential{std::string(*password)};
  OPENSSL_cleanse(buffer.data(), buffer.size());

  auto identity =
      context_->authenticator->authenticate(credential, subject, std::chrono::system_clock::now());
  if (!identity) {
    spdlog::info("event=auth_failed session={} client={} user={} connection={} reason=\"{}\"", id_,
                 client_address_, subject, connection_name, identity.error().message);
    co_await fail(kSqlInvalidPassword,
                  "portcullis: authentication failed: " + identity.error().message);
    co_return false;
  }
  auto grant = policy::select_grant(config, *identity, connection_name);
  if (!grant) {
    spdlog::info("event=access_denied session={} client={} subject={} connection={} reason=\"{}\"",
                 id_, client_address_, identity->subject, connection_name, grant.error().message);
    co_await fail(kSqlInvalidAuthorization, "portcullis: access denied: " + grant.error().message);
    co_return false;
  }
  auto parameters =
      backend_startup_parameters(startup, grant->credentials->user, grant->connection->database);
  if (!parameters) {
    co_await fail(kSqlInsufficientPrivilege, "portcullis: " + parameters.error().message);
    co_return false;
  }

  BackendTarget target;
  target.connection = grant->connection;
  target.credentials = grant->credentials;
  const auto tls = context_->backend_tls.find(grant->connection->name);
  target.tls_context = tls == context_->backend_tls.end() ? nullptr : tls->second.get();
  target.max_message_size = config.limits.max_message_size;
  target.timeout = config.limits.handshake_timeout;
  auto outcome = co_await connect_backend(target, *parameters);
  if (auto* failure = std::get_if<BackendFailure>(&outcome)) {
    spdlog::warn("event=backend_failed session={} subject={} connection={} reason=\"{}\"", id_,
                 identity->subject, connection_name, failure->message);
    co_await fail(failure->sqlstate, failure->message);
    co_return false;
  }
  auto& backend = std::get<BackendConnection>(outcome);
  backend_ = std::move(backend.stream);
  backend_pending_ = std::move(backend.pending);
  transaction_status_ = backend.transaction_status;
  if (terminated_) co_return false;

  gateway_key_ = cancels_->add(
      CancelTarget{grant->connection->address.host, grant->connection->address.port, backend.key});
  identity_ = std::move(*identity);
  grant_ = std::move(*grant);

  std::string out;
  append_authentication(out, AuthCode::ok);
  out.append(backend.startup_messages);
  append_backend_key_data(out, *gateway_key_);
  append_ready_for_query(out, transaction_status_);
  co_await write_to_client(std::move(out));

  spdlog::info(
      "event=session_start session={} client={} subject={} kind={} auth={} connection={} "
      "access_rule={} backend_user={} client_tls={} backend_tls={}",
      id_, client_address_, identity_->subject, identity::to_string(identity_->kind),
      identity::to_string(identity_->method), grant_->connection->name, grant_->rule,
      grant_->credentials->user, client_->tls_version(), backend_->tls_version());
  co_return true;
}

asio::awaitable<void> Session::handle_cancel(const CancelRequest& request) {
  const auto target = cancels_->find(request);
  if (!target) {
    // As PostgreSQL: no answer either way, so a guesser learns nothing.
    spdlog::info("event=cancel_unknown client={}", client_address_);
    co_return;
  }
  spdlog::info("event=cancel client={} backend={}:{}", client_address_, target->host, target->port);
  co_await send_backend_cancel(target->host, target->port, target->backend_key);
}

asio::awaitable<void> Session::relay() {
  if (context_->config->limits.idle_timeout > std::chrono::milliseconds::zero()) {
    co_await (pump_client_to_backend() || pump_backend_to_client() || idle_watchdog());
  } else {
    co_await (pump_client_to_backend() || pump_backend_to_client());
  }
}

asio::awaitable<void> Session::idle_watchdog() {
  const auto timeout = context_->config->limits.idle_timeout;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    const auto idle_since = last_client_activity_;
    if (now - idle_since >= timeout && sync_points_.empty() && transaction_status_ == 'I') {
      spdlog::info("event=idle_timeout session={} subject={}", id_, identity_->subject);
      co_await write_to_client(error_response(
          kSqlIdleSessionTimeout,
          fmt::format("portcullis: terminating connection after {} ms idle (limits.idle_timeout)",
                      timeout.count()),
          Severity::fatal));
      co_return;
    }
    timer.expires_at(std::max(idle_since + timeout, now + std::chrono::milliseconds(100)));
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec) co_return;
  }
}

asio::awaitable<void> Session::pump_client_to_backend() {
  const std::size_t max_message = context_->config->limits.max_message_size;
  net::ByteBuffer in(kRelayBufferSize);
  std::vector<Segment> segments;
  std::string synthetic;        // never used in this direction, kept for to_buffers
  std::size_t passthrough = 0;  // bytes of a streamed message still to come
  bool drop_passthrough = false;
  for (;;) {
    auto [read_ec, n] = co_await client_->read_some(in.writable());
    if (read_ec) break;
    in.commit(n);
    bytes_from_client_ += n;
    last_client_activity_ = std::chrono::steady_clock::now();

    const std::string_view input = in.readable();
    std::size_t pos = 0;
    std::size_t whole_message_needed = 0;
    bool close_after = false;
    segments.clear();
    while (pos < input.size()) {
      if (passthrough > 0) {
        const std::size_t take = std::min(passthrough, input.size() - pos);
        if (!drop_passthrough) add_segment(segments, false, pos, take);
        pos += take;
        passthrough -= take;
        continue;
      }
      FrameHeader header;
      std::string error;
      const auto status = decode_header(input.substr(pos), max_message, header, error);
      if (status == DecodeStatus::need_more) break;
      if (status == DecodeStatus::invalid) {
        spdlog::info("event=protocol_error session={} direction=client error=\"{}\"", id_, error);
        co_await write_to_client(
            error_response(kSqlProtocolViolation, "portcullis: " + error, Severity::fatal));
        co_return;
      }
      const std::size_t total = kHeaderSize + header.body_size;
      if (!inspected(header.type)) {
        passthrough = total;
        drop_passthrough = skipping_until_sync_;
        continue;
      }
      if (input.size() - pos < total) {
        whole_message_needed = total;
        break;
      }
      const Message message{header.type, input.substr(pos + kHeaderSize, header.body_size)};
      const Action action = on_client_message(message);
      if (action == Action::forward) add_segment(segments, false, pos, total);
      pos += total;
      if (action == Action::close) {
        close_after = true;
        break;
      }
    }
    if (!segments.empty()) {
      auto [write_ec, written] = co_await backend_->write(to_buffers(segments, input, synthetic));
      if (write_ec) co_return;
    }
    in.consume(pos);
    if (whole_message_needed > 0) in.reserve_message(whole_message_needed);
    // Answers the gateway made itself for refused commands with nothing ahead of them.
    if (!sync_points_.empty() && sync_points_.front().synthetic) {
      std::string out;
      drain_synthetic(out);
      co_await write_to_client(std::move(out));
    }
    if (close_after) break;
  }
  // The client left (Terminate or closed socket): end the backend session politely.
  std::string terminate;
  append_terminate(terminate);
  co_await backend_->write(asio::buffer(terminate));
}

Session::Action Session::on_client_message(const Message& message) {
  auto protocol_error = [&](const Error& error) {
    spdlog::info("event=protocol_error session={} direction=client error=\"{}\"", id_,
                 error.message);
    terminate(kSqlProtocolViolation, "portcullis: " + error.message);
    return Action::close;
  };
  if (skipping_until_sync_ && message.type != frontend::kSync &&
      message.type != frontend::kTerminate)
    return Action::drop;

  switch (message.type) {
    case frontend::kQuery: {
      auto query = parse_query(message.body);
      if (!query) return protocol_error(query.error());
      policy::Command command;
      command.text.assign(query->sql);
      command.via = "query";
      return decide(std::move(command), false);
    }
    case frontend::kParse: {
      auto parse = parse_parse(message.body);
      if (!parse) return protocol_error(parse.error());
      statements_.on_parse(*parse);
      return Action::forward;
    }
    case frontend::kBind: {
      auto bind = parse_bind(message.body);
      if (!bind) return protocol_error(bind.error());
      statements_.on_bind(*bind);
      return Action::forward;
    }
    case frontend::kExecute: {
      auto execute = parse_execute(message.body);
      if (!execute) return protocol_error(execute.error());
      const PortalState* portal = statements_.portal(execute->portal);
      if (portal == nullptr) {
        // A portal the gateway cannot attribute to a text (bound to a statement made with
        // SQL PREPARE, say) would run unjudged: refuse it.
        refuse(kSqlInvalidCursorName,
               fmt::format("portcullis: portal \"{}\" is not known to the gateway; prepare "
                           "statements with Parse so that they can be checked",
                           execute->portal),
               true);
        return Action::drop;
      }
      policy::Command command;
      command.text = *portal->text;
      command.params = portal->params;
      command.via = "execute";
      return decide(std::move(command), true);
    }
    case frontend::kClose: {
      auto close = parse_describe_or_close(message.body);
      if (!close) return protocol_error(close.error());
      statements_.on_close(*close);
      return Action::forward;
    }
    case frontend::kSync: {
      statements_.on_sync_point();
      SyncPoint point;
      if (skipping_until_sync_) {
        point.error = std::move(owed_error_);
        owed_error_.clear();
        skipping_until_sync_ = false;
      }
      sync_points_.push_back(std::move(point));
      return Action::forward;
    }
    case frontend::kFunctionCall: {
      auto call = parse_function_call(message.body);
      if (!call) return protocol_error(call.error());
      policy::Command command;
      command.text = fmt::format("FunctionCall(oid {})", call->function_oid);
      command.params = parameters_text(call->arguments, call->argument_formats);
      command.via = "function_call";
      return decide(std::move(command), false);
    }
    case frontend::kTerminate:
      return Action::close;
    default:
      return Action::forward;
  }
}

Session::Action Session::decide(policy::Command command, bool extended) {
  ++commands_;
  command.protocol = "postgres";
  command.connection = grant_->connection->name;
  const auto decision = context_->decide(*context_->config, *grant_, command);
  if (decision.verdict == policy::Verdict::allow) {
    // A simple Query or FunctionCall is answered with a ReadyForQuery of its own.
    if (!extended) {
      sync_points_.push_back(SyncPoint{});
      statements_.on_sync_point();
    }
    return Action::forward;
  }
  spdlog::info("event=command_refused session={} subject={} verdict={} rule={}", id_,
               identity_->subject, policy::to_string(decision.verdict), decision.rule);
  const auto message =
      decision.verdict == policy::Verdict::review
          ? fmt::format("portcullis: approval required by rule \"{}\": {}", decision.rule,
                        decision.message)
          : fmt::format("portcullis: blocked by rule \"{}\": {}", decision.rule, decision.message);
  refuse(kSqlInsufficientPrivilege, message, extended);
  return Action::drop;
}

void Session::refuse(std::string_view sqlstate, std::string_view message, bool extended) {
  auto error = error_response(sqlstate, message);
  if (extended) {
    // As PostgreSQL after an error: ignore everything up to Sync, answer at the Sync.
    skipping_until_sync_ = true;
    owed_error_ = std::move(error);
  } else {
    sync_points_.push_back(SyncPoint{true, false, std::move(error)});
  }
}

bool Session::follow_backend_message(char type) {
  switch (type) {
    case backend::kParseComplete:
      return statements_.on_parse_complete();
    case backend::kBindComplete:
      return statements_.on_bind_complete();
    case backend::kCloseComplete:
      return statements_.on_close_complete();
    case backend::kErrorResponse:
      if (!sync_points_.empty()) sync_points_.front().backend_errored = true;
      statements_.on_error();
      return true;
    case backend::kReadyForQuery:
      statements_.on_ready_for_query();
      return true;
    default:
      return true;
  }
}

void Session::drain_synthetic(std::string& out) {
  while (!sync_points_.empty() && sync_points_.front().synthetic) {
    out.append(sync_points_.front().error);
    append_ready_for_query(out, transaction_status_);
    sync_points_.pop_front();
  }
}

asio::awaitable<void> Session::pump_backend_to_client() {
  const std::size_t max_message = context_->config->limits.max_message_size;
  net::ByteBuffer in(kRelayBufferSize);
  if (!backend_pending_.empty()) {
    in.reserve_message(backend_pending_.size());
    auto space = in.writable();
    std::memcpy(space.data(), backend_pending_.data(), backend_pending_.size());
    in.commit(backend_pending_.size());
    backend_pending_.clear();
  }
  std::vector<Segment> segments;
  std::string synthetic;
  std::size_t passthrough = 0;
  bool first = true;
  for (;;) {
    if (!first || in.empty()) {
      auto [read_ec, n] = co_await backend_->read_some(in.writable());
      if (read_ec) co_return;
      in.commit(n);
    }
    first = false;

    const std::string_view input = in.readable();
    std::size_t pos = 0;
    std::size_t whole_message_needed = 0;
    segments.clear();
    synthetic.clear();
    while (pos < input.size()) {
      if (passthrough > 0) {
        const std::size_t take = std::min(passthrough, input.size() - pos);
        add_segment(segments, false, pos, take);
        pos += take;
        passthrough -= take;
        continue;
      }
      FrameHeader header;
      std::string error;
      const auto status = decode_header(input.substr(pos), max_message, header, error);
      if (status == DecodeStatus::need_more) break;
      if (status == DecodeStatus::invalid) {
        spdlog::warn("event=protocol_error session={} direction=backend error=\"{}\"", id_, error);
        synthetic.clear();
        segments.clear();
        co_await write_to_client(error_response(
            kSqlProtocolViolation, "portcullis: the backend broke the protocol", Severity::fatal));
        co_return;
      }
      const std::size_t total = kHeaderSize + header.body_size;
      if (!follow_backend_message(header.type)) {
        spdlog::warn(
            "event=protocol_error session={} direction=backend error=\"unexpected "
            "completion message '{}'\"",
            id_, header.type);
        co_await write_to_client(
            error_response(kSqlProtocolViolation,
                           "portcullis: lost track of the backend's prepared statements; reconnect",
                           Severity::fatal));
        co_return;
      }
      if (header.type != backend::kReadyForQuery) {
        passthrough = total;
        continue;
      }
      if (input.size() - pos < total) {
        whole_message_needed = total;
        break;
      }
      auto ready = parse_ready_for_query(input.substr(pos + kHeaderSize, header.body_size));
      if (ready) transaction_status_ = ready->transaction_status;
      if (!sync_points_.empty() && !sync_points_.front().synthetic) {
        SyncPoint point = std::move(sync_points_.front());
        sync_points_.pop_front();
        // The error owed for a refused extended-protocol message, unless the backend
        // already reported one in the same batch (PostgreSQL reports only the first).
        if (!point.error.empty() && !point.backend_errored) {
          add_segment(segments, true, synthetic.size(), point.error.size());
          synthetic.append(point.error);
        }
      }
      add_segment(segments, false, pos, total);
      pos += total;
      const std::size_t before = synthetic.size();
      drain_synthetic(synthetic);
      add_segment(segments, true, before, synthetic.size() - before);
    }
    if (!segments.empty()) {
      co_await client_write_lock_.lock();
      auto [write_ec, written] = co_await client_->write(to_buffers(segments, input, synthetic));
      client_write_lock_.unlock();
      if (write_ec) co_return;
      bytes_to_client_ += written;
    }
    in.consume(pos);
    if (whole_message_needed > 0) in.reserve_message(whole_message_needed);
  }
}

}  // namespace portcullis::proto::postgres
