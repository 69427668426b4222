// The life of one PostgreSQL client connection: handshake, authentication, backend set-up,
// and the two relay pumps with the decision point on the client side.
#include "proto/postgres/session.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <cctype>
#include <cerrno>

#include "net/byte_buffer.h"
#include "policy/decide.h"
#include "proto/postgres/backend_connector.h"
#include "proto/postgres/decoder.h"
#include "proto/postgres/error_redaction.h"
#include "proto/postgres/fastpath_functions.h"
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
constexpr std::string_view kSqlProgramLimitExceeded = "54000";
constexpr std::string_view kSqlAdminShutdown = "57P01";
constexpr std::string_view kSqlCannotConnectNow = "57P03";
constexpr std::string_view kSqlIoError = "58030";
constexpr std::string_view kSqlQueryCanceled = "57014";
constexpr std::string_view kSqlOutOfMemory = "53200";

// Messages that stream through (DataRow, CopyData) may be as large as PostgreSQL allows a
// value to be (MaxAllocSize, 1 GB, src/include/utils/memutils.h).
constexpr std::size_t kMaxStreamedMessage = (std::size_t{1} << 30) - 1;
// Commands a client may have waiting for answers (refused ones included) before the
// session is ended: a bound on what a client can make the gateway queue.
constexpr std::size_t kMaxPendingSyncPoints = 4096;
// How long a terminated session may take to deliver its last error.
constexpr auto kTerminateGrace = std::chrono::seconds(2);

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

// Every session's large messages together are bounded (limits.max_buffered_total): one that
// does not fit ends its session rather than grow the gateway without bound.
std::string buffer_budget_exhausted(std::size_t bytes) {
  return error_response(kSqlOutOfMemory,
                        fmt::format("portcullis: the gateway's buffer budget is exhausted "
                                    "(limits.max_buffered_total); a message of {} bytes cannot "
                                    "be held now",
                                    bytes),
                        Severity::fatal);
}

// A NoticeResponse (SQLSTATE 01000, warning class) the client shows at once.
std::string notice_response(std::string_view message, std::string_view detail) {
  std::string out;
  append_notice_response(out, ErrorMessage{Severity::notice, "01000", message, detail, {}});
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
    case frontend::kDescribe:
    case frontend::kSync:
    case frontend::kFunctionCall:
    case frontend::kTerminate:
      return true;
    default:
      return false;
  }
}

using Segment = RelaySegment;

// Where a grant's backend connections go: the connection, the grant's credentials, its TLS.
// Points into `context`, which must outlive the connecting.
BackendTarget backend_target(const GatewayContext& context, const policy::Grant& grant) {
  BackendTarget target;
  target.connection = grant.connection;
  target.credentials = grant.credentials;
  const auto tls = context.backend_tls.find(grant.connection->name);
  target.tls_context = tls == context.backend_tls.end() ? nullptr : tls->second.get();
  target.max_message_size = context.config->limits.max_message_size;
  target.timeout = context.config->limits.handshake_timeout;
  return target;
}

// A COPY's table without its schema (the parser gives `public.customers`).
std::string unqualified_table(std::string_view table) {
  const auto dot = table.rfind('.');
  return std::string(dot == std::string_view::npos ? table : table.substr(dot + 1));
}

bool has_rows_guardrail(const config::Config& config) {
  return std::any_of(config.guardrails.begin(), config.guardrails.end(),
                     [](const config::GuardrailConfig& g) { return g.when.rows_over.has_value(); });
}

// What the journal keeps of a statement too large to classify: its first word and its size.
// Nothing more: unclassified text cannot have its secrets (a role's password) redacted.
std::string statement_preview(std::string_view text) {
  constexpr std::size_t kMaxWord = 32;
  std::size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  std::size_t end = start;
  while (end < text.size() && end - start < kMaxWord &&
         std::isalpha(static_cast<unsigned char>(text[end])))
    ++end;
  return fmt::format("{} ... ({} bytes, not classified)", text.substr(start, end - start),
                     text.size());
}

// Backend messages that carry result values or text a masking profile rewrites, or that
// start a result the gateway cannot mask (COPY out).
bool masked_type(char type) {
  switch (type) {
    case backend::kRowDescription:
    case backend::kDataRow:
    case backend::kErrorResponse:
    case backend::kNoticeResponse:
    case backend::kCopyOutResponse:
    case backend::kCopyBothResponse:
    case backend::kCopyData:
    case backend::kCopyDone:
    case backend::kCommandComplete:
    case backend::kNoData:
    case backend::kNotificationResponse:
    case backend::kFunctionCallResponse:
      return true;
    default:
      return false;
  }
}

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

// The segments as buffers to write, in `buffers` (kept by the caller from write to write, so
// that a write allocates nothing).
const std::vector<asio::const_buffer>& to_buffers(const std::vector<Segment>& segments,
                                                  std::string_view input,
                                                  const std::string& synthetic,
                                                  std::vector<asio::const_buffer>& buffers) {
  buffers.clear();
  for (const auto& s : segments)
    buffers.emplace_back(s.synthetic ? synthetic.data() + s.offset : input.data() + s.offset,
                         s.size);
  return buffers;
}

// The rest of a streamed message (CopyData, DataRow) that began in an earlier read: it is
// forwarded, or dropped, as it arrives, never buffered whole.
struct Passthrough {
  std::size_t remaining = 0;
  bool drop = false;

  // Takes what of it `input` holds from `pos`; false when no streamed message is open.
  bool step(std::size_t input_size, std::size_t& pos, std::vector<Segment>& segments) {
    if (remaining == 0) return false;
    const std::size_t take = std::min(remaining, input_size - pos);
    if (!drop) add_segment(segments, false, pos, take);
    pos += take;
    remaining -= take;
    return true;
  }
};

}  // namespace

Session::Session(asio::ip::tcp::socket client, std::shared_ptr<const GatewayContext> context,
                 const ContextSource* context_source, std::shared_ptr<CancelRegistry> cancels,
                 std::shared_ptr<StatementClassifier> classifier, bool loopback_listener)
    : context_(std::move(context)),
      context_source_(context_source),
      cancels_(std::move(cancels)),
      classifier_(std::move(classifier)),
      loopback_listener_(loopback_listener),
      id_(make_session_id()),
      started_(std::chrono::steady_clock::now()),
      client_write_lock_(client.get_executor()),
      backend_progress_(client.get_executor()),
      journal_progress_(client.get_executor()),
      review_timer_(client.get_executor()),
      access_timer_(client.get_executor()) {
  net::error_code ec;
  const auto remote = client.remote_endpoint(ec);
  client_address_ =
      ec ? "unknown" : fmt::format("{}:{}", remote.address().to_string(), remote.port());
  client.set_option(asio::ip::tcp::no_delay(true), ec);
  client_ = std::make_shared<net::Stream>(std::move(client));
  last_client_activity_ = started_;
  if (context_->journal) {
    journal_.attach(context_->journal.get(), id_, client_address_);
    journal_.set_metrics(context_->metrics.get());
    journal_.set_caps(context_->config->audit.record_results);
  }
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
      // The expiry may have been queued just as the handshake finished.
      if (session->handshake_done_) return;
      spdlog::info("event=handshake_timeout session={} client={} timeout_ms={}", session->id_,
                   session->client_address_, timeout.count());
      session->client_->close();
      if (session->backend_) session->backend_->close();
    }
  });
  const bool ready = co_await handshake();
  handshake_done_ = true;
  if (handshake_listener_) handshake_listener_();
  deadline.cancel();
  if (ready && !terminated_) co_await relay();

  tables_.close();
  estimator_.close();
  // A terminated session closes its sockets once its last error is written (terminate()).
  if (!terminated_) {
    client_->close();
    if (backend_) backend_->close();
  }
  if (identity_) {
    const auto elapsed = std::chrono::steady_clock::now() - started_;
    journal_.disconnected(bytes_from_client_, bytes_to_client_, elapsed);
    spdlog::info(
        "event=session_end session={} subject={:?} connection={:?} duration_ms={} commands={} "
        "bytes_from_client={} bytes_to_client={}",
        id_, identity_->subject, grant_ ? grant_->connection->name : "",
        std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), commands_,
        bytes_from_client_, bytes_to_client_);
  }
}

void Session::terminate(std::string_view sqlstate, std::string message) {
  if (terminated_) return;
  terminated_ = true;
  backend_progress_.cancel();
  review_timer_.cancel();
  access_timer_.cancel();
  auto self = shared_from_this();
  // A client that does not read cannot hold the session (or a shutdown) open: the sockets
  // are closed after a short grace whether the error got through or not.
  auto grace = std::make_shared<asio::steady_timer>(client_->get_executor(), kTerminateGrace);
  grace->async_wait([self, grace](const net::error_code&) {
    self->client_->close();
    if (self->backend_) self->backend_->close();
  });
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
    case config::PlaintextPolicy::allow:
      return true;
    case config::PlaintextPolicy::never:
      return false;
    case config::PlaintextPolicy::loopback:
      return loopback_listener_;
  }
  return false;
}

asio::awaitable<void> Session::write_to_client(std::string bytes) {
  if (!client_write_lock_.try_lock()) co_await client_write_lock_.lock();
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
      spdlog::info("event=bad_startup session={} client={} error={:?}", id_, client_address_,
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
    // The packet's views point into `buffer`: keep it whole while they are in use, and
    // carry the bytes after it separately.
    std::string rest = buffer.substr(consumed);

    if (std::holds_alternative<SslRequest>(packet)) {
      buffer = std::move(rest);
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
          spdlog::info("event=tls_failed session={} client={} error={:?}", id_, client_address_,
                       tls.error().message);
          co_return false;
        }
      }
      continue;
    }
    if (std::holds_alternative<GssEncRequest>(packet)) {
      buffer = std::move(rest);
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
    co_return co_await authenticate_and_connect(startup, std::move(rest));
  }
}

asio::awaitable<bool> Session::authenticate_and_connect(const StartupMessage& startup,
                                                        std::string buffer) {
  const auto& config = *context_->config;
  if (!client_->is_tls() && !plaintext_allowed()) {
    journal_.connect_refused(startup.parameter("user").value_or(std::string_view()),
                             startup.parameter("database").value_or(std::string_view()),
                             "this listener requires TLS");
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
    spdlog::info("event=auth_failed session={} client={} user={:?} connection={:?} reason={:?}",
                 id_, client_address_, subject, connection_name, identity.error().message);
    journal_.connect_refused(subject, connection_name,
                             "authentication failed: " + identity.error().message);
    co_await fail(kSqlInvalidPassword,
                  "portcullis: authentication failed: " + identity.error().message);
    co_return false;
  }
  auto grant = policy::select_grant(config, *identity, connection_name,
                                    access_request_check(*identity, connection_name));
  if (!grant) {
    spdlog::info(
        "event=access_denied session={} client={} subject={:?} connection={:?} reason={:?}", id_,
        client_address_, identity->subject, connection_name, grant.error().message);
    journal_.connect_refused(identity->subject, connection_name,
                             "access denied: " + grant.error().message);
    co_await fail(kSqlInvalidAuthorization, "portcullis: access denied: " + grant.error().message);
    co_return false;
  }
  // Fail closed: while the journal cannot be written nobody new gets in.
  if (!journal_.healthy()) {
    spdlog::warn(
        "event=connection_refused session={} subject={:?} reason=\"audit journal "
        "unavailable\"",
        id_, identity->subject);
    co_await fail(kSqlCannotConnectNow,
                  "portcullis: the audit journal cannot be written; connections are refused "
                  "until it can (see the gateway's log)");
    co_return false;
  }
  auto parameters = backend_startup_parameters(startup, grant->credentials->user,
                                               grant->connection->target.database);
  if (!parameters) {
    journal_.connect_refused(identity->subject, connection_name, parameters.error().message);
    co_await fail(kSqlInsufficientPrivilege, "portcullis: " + parameters.error().message);
    co_return false;
  }
  // A read-only grant is enforced twice: by the decision point, and by the backend itself.
  // The caller cannot lift this setting: startup parameters and statements that would are
  // refused.
  if (policy::is_read_only(*grant)) parameters->emplace_back("default_transaction_read_only", "on");

  const BackendTarget target = backend_target(*context_, *grant);
  auto outcome = co_await connect_backend(target, *parameters);
  if (auto* failure = std::get_if<BackendFailure>(&outcome)) {
    spdlog::warn("event=backend_failed session={} subject={:?} connection={:?} reason={:?}", id_,
                 identity->subject, connection_name, failure->message);
    journal_.connect_refused(identity->subject, connection_name, failure->message);
    co_await fail(failure->sqlstate, failure->message);
    co_return false;
  }
  auto& backend = std::get<BackendConnection>(outcome);
  backend_ = std::move(backend.stream);
  backend_pending_ = std::move(backend.pending);
  transaction_status_ = backend.transaction_status;
  if (terminated_) co_return false;

  masker_ = context_->masker(grant->masking);
  if (masker_) mask_scratch_ = std::make_unique<masking::Scratch>();
  std::weak_ptr<Session> weak = shared_from_this();
  auto executor = client_->get_executor();
  // Called from other threads (a CancelRequest's session, the REST API): posted to ours.
  auto on_this_thread = [weak, executor](auto action) {
    return [weak, executor, action](auto&&... args) {
      asio::post(executor, [weak, action, args...] {
        if (auto self = weak.lock()) action(*self, args...);
      });
    };
  };
  gateway_key_ = cancels_->add(
      CancelTarget{grant->connection->target.address.host, grant->connection->target.address.port,
                   backend.key, on_this_thread([](Session& self) { self.on_cancel_request(); })});
  identity_ = std::move(*identity);
  grant_ = std::move(*grant);
  if (context_->live_sessions) {
    live_ = std::make_shared<review::LiveSession>();
    live_->id = id_;
    live_->subject = identity_->subject;
    live_->protocol = "postgres";
    live_->connection = grant_->connection->name;
    live_->client_addr = client_address_;
    live_->started = std::chrono::system_clock::now();
    live_registration_ = context_->live_sessions->add(
        live_, on_this_thread([](Session& self, const std::string& reason) {
          spdlog::info("event=session_killed session={} subject={:?} reason={:?}", self.id_,
                       self.identity_->subject, reason);
          self.terminate(kSqlAdminShutdown, "portcullis: " + reason);
        }));
  }
  arm_access_expiry();
  journal_.set_masking(masker_, &mask_counts_, mask_scratch_.get());
  journal_.connected(*identity_, grant_->connection->name);

  std::string out;
  append_authentication(out, AuthCode::ok);
  out.append(backend.startup_messages);
  append_backend_key_data(out, *gateway_key_);
  append_ready_for_query(out, transaction_status_);
  co_await write_to_client(std::move(out));

  spdlog::info(
      "event=session_start session={} client={} subject={:?} kind={} auth={} connection={:?} "
      "access_rule={} backend_user={:?} client_tls={} backend_tls={}",
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
  if (target->interrupt) target->interrupt();
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
    if (now - idle_since >= timeout && sync_points_.empty() && transaction_status_ == 'I' &&
        !hold_) {
      spdlog::info("event=idle_timeout session={} subject={:?}", id_, identity_->subject);
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
  net::ByteBuffer in(kRelayBufferSize, message_budget_.get());
  std::vector<Segment> segments;
  std::vector<asio::const_buffer> buffers;
  // What the gateway adds in this direction: a Describe before an undescribed Execute.
  std::string synthetic;
  Passthrough passthrough;
  bool need_read = true;
  bool drained = true;  // the last read emptied the socket: wait before taking a buffer
  for (;;) {
    if (need_read) {
      net::error_code read_ec;
      std::size_t n = 0;
      if (drained && in.empty() && client_->can_wait_unbuffered()) {
        in.release();
        auto [wait_ec] =
            co_await client_->socket().async_wait(net::tcp::socket::wait_read, use_nothrow);
        if (wait_ec) break;
        const auto space = in.writable();
        n = client_->read_now(space, read_ec);
        if (read_ec == asio::error::would_block) continue;  // nothing after all: wait again
        drained = n < space.size();
      } else {
        const auto space = in.writable();
        std::tie(read_ec, n) = co_await client_->read_some(space);
        drained = n < space.size();
      }
      if (read_ec) break;
      in.commit(n);
      bytes_from_client_ += n;
      if (live_) live_->bytes_in.store(bytes_from_client_, std::memory_order_relaxed);
      last_client_activity_ = std::chrono::steady_clock::now();
    }

    const std::string_view input = in.readable();
    std::size_t pos = 0;
    std::size_t whole_message_needed = 0;
    bool close_after = false;
    bool wait_for_backend = false;
    bool stopped_early = false;
    std::size_t held_at = 0;  // where the held message starts in `input`, and its size
    std::size_t held_size = 0;
    segments.clear();
    synthetic.clear();
    while (pos < input.size()) {
      if (passthrough.step(input.size(), pos, segments)) continue;
      FrameHeader header;
      std::string error;
      auto status = decode_header(input.substr(pos), kMaxStreamedMessage, header, error);
      if (status == DecodeStatus::ready && inspected(header.type) &&
          header.body_size > max_message) {
        status = DecodeStatus::invalid;
        error = fmt::format(
            "message of {} bytes exceeds the limit of {} bytes (limits.max_message_size)",
            header.body_size, max_message);
      }
      if (status == DecodeStatus::need_more) break;
      if (status == DecodeStatus::invalid) {
        spdlog::info("event=protocol_error session={} direction=client error={:?}", id_, error);
        co_await write_to_client(
            error_response(kSqlProtocolViolation, "portcullis: " + error, Severity::fatal));
        co_return;
      }
      const std::size_t total = kHeaderSize + header.body_size;
      if (!inspected(header.type)) {
        if (header.type == frontend::kCopyDone || header.type == frontend::kCopyFail)
          copy_from_pending_ = false;
        passthrough = Passthrough{total, skipping_until_sync_};
        continue;
      }
      if (input.size() - pos < total) {
        whole_message_needed = total;
        break;
      }
      // Bind and Execute name statements and portals. If an earlier batch changed them and
      // the backend has not answered it yet, its outcome decides what the names mean: wait
      // for it rather than judge a guess.
      if ((header.type == frontend::kBind || header.type == frontend::kExecute) &&
          !skipping_until_sync_ && statements_.has_unconfirmed_earlier_batches()) {
        wait_for_backend = true;
        stopped_early = true;
        break;
      }
      const Message message{header.type, input.substr(pos + kHeaderSize, header.body_size)};
      preclassified_.reset();
      // An Execute's text is its portal's, of any size: looked up there.
      const bool large_text =
          header.type == frontend::kExecute ||
          ((header.type == frontend::kQuery || header.type == frontend::kParse) &&
           header.body_size > StatementClassifier::kOffThreadText);
      if (large_text && !skipping_until_sync_) {
        co_await classify_large_text(message);
        if (terminated_) co_return;
      }
      if ((header.type == frontend::kQuery || header.type == frontend::kExecute) &&
          !skipping_until_sync_ && has_rows_guardrail(*context_->config)) {
        co_await estimate_rows(message);
        if (terminated_) co_return;
      }
      const Action action = on_client_message(message);
      if (!describe_to_inject_.empty()) {
        if (action == Action::forward) {
          add_segment(segments, true, synthetic.size(), describe_to_inject_.size());
          synthetic.append(describe_to_inject_);
          pending_describes_.push_back(PendingDescribe{next_sync_serial_, true, true});
          describe_to_inject_.clear();
        } else if (action == Action::hold) {
          held_describe_ = std::move(describe_to_inject_);
          describe_to_inject_.clear();
        } else {
          describe_to_inject_.clear();
        }
      }
      if (action == Action::forward) add_segment(segments, false, pos, total);
      if (action == Action::hold) {
        // What came before it goes to the backend now; the held message waits.
        held_at = pos;
        held_size = total;
        pos += total;
        stopped_early = true;
        break;
      }
      pos += total;
      if (action == Action::close) {
        close_after = true;
        break;
      }
      // A refused command with nothing ahead of it at the backend is answered now, before
      // anything that follows it is forwarded, so that answers keep the client's order.
      if (!sync_points_.empty() && sync_points_.front().synthetic) {
        stopped_early = true;
        break;
      }
    }
    if (!segments.empty()) {
      // Strict audit: what is about to be forwarded is on disk in the journal first.
      while (journal_waits_ > 0) {
        journal_progress_.expires_at(asio::steady_timer::time_point::max());
        co_await journal_progress_.async_wait(use_nothrow);
        if (terminated_) co_return;
      }
      if (journal_failed_) {
        spdlog::error(
            "event=command_refused session={} subject={:?} reason=\"audit journal "
            "unavailable\"",
            id_, identity_->subject);
        terminate(kSqlIoError,
                  "portcullis: the audit journal cannot be written; the statement was not run "
                  "and the session ends (see the gateway's log)");
        co_return;
      }
      auto [write_ec, written] =
          co_await backend_->write(to_buffers(segments, input, synthetic, buffers));
      if (write_ec) co_return;
    }
    if (hold_) {
      const bool release = co_await wait_for_review();
      if (terminated_) co_return;
      if (release) {
        while (journal_waits_ > 0) {
          journal_progress_.expires_at(asio::steady_timer::time_point::max());
          co_await journal_progress_.async_wait(use_nothrow);
          if (terminated_) co_return;
        }
        if (journal_failed_) {
          terminate(kSqlIoError,
                    "portcullis: the audit journal cannot be written; the statement was not run "
                    "and the session ends (see the gateway's log)");
          co_return;
        }
        buffers.clear();
        if (!held_describe_.empty()) {
          buffers.emplace_back(held_describe_.data(), held_describe_.size());
          pending_describes_.push_back(PendingDescribe{next_sync_serial_, true, true});
        }
        buffers.emplace_back(input.data() + held_at, held_size);
        auto [write_ec, written] = co_await backend_->write(buffers);
        if (write_ec) co_return;
      }
      held_describe_.clear();
    }
    in.consume(pos);
    if (whole_message_needed > 0 && !in.reserve_message(whole_message_needed)) {
      spdlog::warn("event=buffer_budget_exhausted session={} bytes={}", id_, whole_message_needed);
      co_await write_to_client(buffer_budget_exhausted(whole_message_needed));
      co_return;
    }
    // A large message's memory goes back as soon as it has been relayed.
    if (in.capacity() > kRelayBufferSize) in.release();
    if (!sync_points_.empty() && sync_points_.front().synthetic) {
      std::string out;
      drain_synthetic(out);
      co_await write_to_client(std::move(out));
    }
    if (close_after || terminated_) break;
    if (sync_points_.size() > kMaxPendingSyncPoints) {
      spdlog::info("event=protocol_error session={} error=\"too many commands awaiting answers\"",
                   id_);
      co_await write_to_client(
          error_response(kSqlProgramLimitExceeded,
                         fmt::format("portcullis: more than {} commands are waiting for answers",
                                     kMaxPendingSyncPoints),
                         Severity::fatal));
      co_return;
    }
    while (wait_for_backend && statements_.has_unconfirmed_earlier_batches()) {
      backend_progress_.expires_at(asio::steady_timer::time_point::max());
      co_await backend_progress_.async_wait(use_nothrow);
      if (terminated_) co_return;
    }
    // Whole messages still buffered (the loop stopped early) are handled before reading.
    need_read = !stopped_early || in.empty();
  }
  // The client left (Terminate or closed socket): end the backend session politely.
  std::string terminate;
  append_terminate(terminate);
  co_await backend_->write(asio::buffer(terminate));
}

Session::Action Session::on_client_message(const Message& message) {
  auto protocol_error = [&](const Error& error) {
    spdlog::info("event=protocol_error session={} direction=client error={:?}", id_, error.message);
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
      // Decided here as well as at Execute: a prepared statement can be run by other
      // routes (FETCH from its portal, SQL EXECUTE), and Bind already plans it.
      policy::Command command;
      command.text.assign(parse->query);
      command.via = "parse";
      if (decide(std::move(command), true) != Action::forward) return Action::drop;
      statements_.on_parse(*parse);
      return Action::forward;
    }
    case frontend::kBind: {
      auto bind = parse_bind(message.body);
      if (!bind) return protocol_error(bind.error());
      statements_.on_bind(*bind);
      described_portal_.reset();
      return Action::forward;
    }
    case frontend::kExecute: {
      auto execute = parse_execute(message.body);
      if (!execute) return protocol_error(execute.error());
      const PortalState* portal = statements_.portal(execute->portal);
      if (portal == nullptr) {
        // A portal the gateway cannot attribute to a text (bound to a statement made with
        // SQL PREPARE, say) would run unjudged: refuse it.
        const auto message = fmt::format(
            "portcullis: portal \"{}\" is not known to the gateway; prepare "
            "statements with Parse so that they can be checked",
            execute->portal);
        journal_.refused(fmt::format("Execute(portal \"{}\")", execute->portal), message);
        refuse(kSqlInvalidCursorName, message, true);
        return Action::drop;
      }
      policy::Command command;
      command.text = *portal->text;
      command.params = portal->params;
      command.via = "execute";
      // Every result the gateway masks must come with its own description. A client that
      // did not describe this portal (JDBC after its first run, a hand-made client) gets no
      // RowDescription from the backend: the gateway asks for one and keeps it to itself.
      if (masker_ && described_portal_ != execute->portal)
        append_describe(describe_to_inject_, 'P', execute->portal);
      described_portal_.reset();
      return decide(std::move(command), true);
    }
    case frontend::kDescribe: {
      auto describe = parse_describe_or_close(message.body);
      if (!describe) return protocol_error(describe.error());
      const bool portal = describe->target == 'P';
      if (masker_) pending_describes_.push_back(PendingDescribe{next_sync_serial_, portal, false});
      if (portal)
        described_portal_ = std::string(describe->name);
      else
        described_portal_.reset();
      return Action::forward;
    }
    case frontend::kClose: {
      auto close = parse_describe_or_close(message.body);
      if (!close) return protocol_error(close.error());
      statements_.on_close(*close);
      described_portal_.reset();
      return Action::forward;
    }
    case frontend::kSync: {
      statements_.on_sync_point();
      described_portal_.reset();
      SyncPoint point;
      // During COPY FROM STDIN the backend ignores Sync: this one may get no answer.
      point.maybe_swallowed = copy_from_pending_;
      if (skipping_until_sync_) {
        point.error = std::move(owed_error_);
        owed_error_.clear();
        skipping_until_sync_ = false;
      }
      push_sync_point(std::move(point));
      return Action::forward;
    }
    case frontend::kFunctionCall: {
      auto call = parse_function_call(message.body);
      if (!call) return protocol_error(call.error());
      policy::Command command;
      command.text = fmt::format("FunctionCall(oid {})", call->function_oid);
      function_oid_ = call->function_oid;
      function_result_format_ = call->result_format == 1 ? FormatCode::binary : FormatCode::text;
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

std::shared_ptr<const sql::Classification> Session::classify(const policy::Command& command) {
  if (command.via == "function_call") {
    // A fast-path call names a function by OID only; it can reach any function (the
    // large-object API among them), so it is classed admin. The large-object functions are
    // known by name; any other OID matches every guardrail on functions.
    auto classification = std::make_shared<sql::Classification>();
    sql::Statement statement;
    statement.kind = "function_call";
    statement.classes = static_cast<sql::ClassSet>(sql::StatementClass::admin);
    statement.text = command.text;
    if (auto name = fastpath_function_name(function_oid_))
      statement.functions.emplace_back(*name);
    else
      statement.calls_unknown_functions = true;
    classification->statements.push_back(std::move(statement));
    return classification;
  }
  std::shared_ptr<const sql::Classification> own;
  if (preclassified_ && preclassified_->first == command.text) own = preclassified_->second;
  if (!own) own = classifier_->classify(command.text);
  auto classification = sql_prepared_.resolve(std::move(own), [this](std::string_view name) {
    // SQL EXECUTE can also run a statement prepared with Parse.
    std::shared_ptr<const sql::Classification> found;
    if (auto text = statements_.statement(name)) found = classifier_->classify(*text);
    return found;
  });
  // SQL FETCH can run a portal bound with Bind: it is decided as the statement behind it.
  return SqlPreparedStatements::resolve_portals(
      std::move(classification), [this](std::string_view name) {
        std::shared_ptr<const sql::Classification> found;
        if (const PortalState* portal = statements_.portal(name); portal && portal->text)
          found = classifier_->classify(*portal->text);
        return found;
      });
}

Session::Action Session::decide(policy::Command command, bool extended) {
  ++commands_;
  if (live_) live_->commands.store(commands_, std::memory_order_relaxed);
  const auto decision_started = std::chrono::steady_clock::now();
  refresh_context();
  if (terminated_) return Action::drop;
  command.protocol = "postgres";
  command.connection = grant_->connection->name;
  if (const std::size_t limit = context_->config->limits.max_statement_size;
      command.text.size() > limit) {
    // Bounded before it is parsed: a parse costs about a hundred times the text in memory.
    const auto message = fmt::format(
        "portcullis: a statement of {} bytes is larger than the gateway classifies ({} bytes, "
        "limits.max_statement_size); send smaller statements (COPY for bulk loads)",
        command.text.size(), limit);
    spdlog::info(
        "event=command_refused session={} subject={:?} via={} reason=\"statement of {} "
        "bytes over limits.max_statement_size\"",
        id_, identity_->subject, command.via, command.text.size());
    journal_.refused(statement_preview(command.text), message);
    refuse(kSqlProgramLimitExceeded, message, extended);
    return Action::drop;
  }
  command.classification = classify(command);
  if (row_estimates_ && row_estimates_->text == command.text &&
      row_estimates_->params == command.params)
    command.estimated_rows = std::move(row_estimates_->rows);
  row_estimates_.reset();
  if (!journal_.healthy()) {
    // Fail closed: nothing runs unrecorded.
    spdlog::warn(
        "event=command_refused session={} subject={:?} via={} reason=\"audit journal "
        "unavailable\"",
        id_, identity_->subject, command.via);
    refuse(kSqlIoError,
           "portcullis: the audit journal cannot be written; statements are refused until it "
           "can (see the gateway's log)",
           extended);
    return Action::drop;
  }
  const auto decision = context_->decide(*context_->config, *identity_, *grant_, command);
  auto& metrics = *context_->metrics;
  metrics.observe_decision(std::chrono::steady_clock::now() - decision_started);
  // Counted as journaled: a held statement's steps are counted where they happen.
  if (command.via != "parse" && (decision.verdict != policy::Verdict::review || !context_->reviews))
    metrics.count_verdict(decision.verdict == policy::Verdict::allow ? "allow" : "deny");
  if (decision.verdict == policy::Verdict::review) {
    // Parse is decided again at Execute, where the statement is held, and every other way
    // to run it (SQL EXECUTE, FETCH of its portal) is decided as this text too. The grant
    // allows the statement (decide() refuses before any review otherwise): preparing it
    // runs nothing.
    if (command.via == "parse") {
      journal_.prepared(command, decision);
      return Action::forward;
    }
    if (context_->reviews) {
      // Approved after an earlier hold timed out: this exact text runs once.
      auto claimed = context_->reviews->claim_approved_statement(
          identity_->subject, grant_->connection->name, approval_binding(command),
          std::chrono::system_clock::now());
      if (claimed && *claimed) {
        spdlog::info("event=command_approved session={} subject={:?} review={} reviewer={:?}", id_,
                     identity_->subject, (*claimed)->id, (*claimed)->decided_by);
        metrics.count_verdict("approved");
        const SessionJournal::ReviewStep step{
            "approved", (*claimed)->id, (*claimed)->decided_by, {}, true};
        return admit(command, decision, extended, &step);
      }
      if (claimed) return hold(std::move(command), decision, extended);
      refuse(kSqlIoError,
             "portcullis: approval required, but the review store is unavailable (see the "
             "gateway's log)",
             extended);
      journal_.decided(command, decision, false, next_sync_serial_, {});
      return Action::drop;
    }
  }
  if (decision.verdict == policy::Verdict::allow)
    return admit(command, decision, extended, nullptr);
  // Parse is decided again at Execute, where the statement is recorded; a refused Parse is
  // recorded here, since it never reaches Execute.
  journal_.decided(command, decision, false, next_sync_serial_, {});
  spdlog::info("event=command_refused session={} subject={:?} via={} verdict={} rule={}", id_,
               identity_->subject, command.via, policy::to_string(decision.verdict), decision.rule);
  const auto message =
      decision.verdict == policy::Verdict::review
          ? fmt::format("portcullis: approval required by rule \"{}\": {}", decision.rule,
                        decision.message)
          : fmt::format("portcullis: blocked by rule \"{}\": {}", decision.rule, decision.message);
  refuse(kSqlInsufficientPrivilege, message, extended);
  return Action::drop;
}

Session::Action Session::admit(const policy::Command& command, const policy::Decision& decision,
                               bool extended, const SessionJournal::ReviewStep* review) {
  if (command.via == "parse") {
    // Recorded for what it is: a text prepared, run (and recorded again) at each Execute.
    journal_.prepared(command, decision);
  } else {
    SessionJournal::Completion on_commit;
    if (journal_.must_wait(context_->config->audit.durability)) {
      on_commit = [self = shared_from_this(), executor = client_->get_executor()](bool ok) {
        asio::post(executor, [self, ok] { self->on_journal_commit(ok); });
      };
    }
    journal_waits_ +=
        journal_.decided(command, decision, true, next_sync_serial_, on_commit, review);
    sql_prepared_.apply(*command.classification);
    follow_search_path(command);
    if (masker_ && masker_->has_column_rules()) {
      const auto reads = masked_column_reads(*command.classification);
      if (reads.action == masking::ColumnPlan::Action::whole) batch_masked_reads_ = reads;
    }
    for (const auto& statement : command.classification->statements) {
      if (statement.kind == "copy_from" && extended) copy_from_pending_ = true;
      if (statement.kind == "copy_to" && statement.copy && masker_)
        pending_copies_.push_back(PendingCopy{next_sync_serial_, *statement.copy});
    }
  }
  // A simple Query or FunctionCall is answered with a ReadyForQuery of its own.
  if (!extended) {
    SyncPoint point;
    if (command.via == "function_call") point.function_result = function_result_format_;
    push_sync_point(std::move(point));
    statements_.on_sync_point();
  }
  return Action::forward;
}

std::string Session::approval_binding(const policy::Command& command) {
  if (command.params.empty()) return command.text;
  // Length-prefixed, so that no text and values can be read as another text and values.
  std::string binding = fmt::format("{}:{}", command.text.size(), command.text);
  for (const auto& value : command.params) {
    if (value)
      fmt::format_to(std::back_inserter(binding), "|{}:{}", value->size(), *value);
    else
      binding += "|NULL";
  }
  return binding;
}

std::string Session::shown_parameters(const policy::Command& command) const {
  if (command.params.empty()) return {};
  std::string shown = "\n-- parameters:";
  masking::MaskCounts ignored;
  masking::MaskResult masked;
  for (std::size_t i = 0; i < command.params.size(); ++i) {
    const auto& value = command.params[i];
    fmt::format_to(std::back_inserter(shown), "{} ${} = ", i == 0 ? "" : ",", i + 1);
    if (!value) {
      shown += "NULL";
      continue;
    }
    std::string_view text = *value;
    // Shown as the caller's results would be: masked with the grant's profile.
    masked.kind = masking::MaskResult::Kind::unchanged;
    if (masker_ && mask_scratch_ &&
        masker_->mask_value(text, masker_->plan_text(), masked, *mask_scratch_, ignored))
      text = masked.kind == masking::MaskResult::Kind::null ? std::string_view("NULL")
                                                            : std::string_view(masked.bytes);
    shown += '\'';
    for (char c : text) {
      if (c == '\'') shown += '\'';
      shown += c;
    }
    shown += '\'';
  }
  return shown;
}

asio::awaitable<void> Session::classify_large_text(const Message& message) {
  std::string text;
  if (message.type == frontend::kQuery) {
    auto query = parse_query(message.body);
    if (!query) co_return;  // on_client_message reports it
    text.assign(query->sql);
  } else if (message.type == frontend::kParse) {
    auto parse = parse_parse(message.body);
    if (!parse) co_return;
    text.assign(parse->query);
  } else {
    auto execute = parse_execute(message.body);
    if (!execute) co_return;
    const PortalState* portal = statements_.portal(execute->portal);
    if (portal == nullptr || !portal->text) co_return;
    text = *portal->text;
  }
  // Over the limit, it is refused unparsed; under the threshold it is cheap where it is.
  if (text.size() > context_->config->limits.max_statement_size ||
      text.size() < StatementClassifier::kOffThreadText)
    co_return;
  auto classification = co_await classifier_->classify_off_thread(text);
  preclassified_.emplace(std::move(text), std::move(classification));
}

asio::awaitable<void> Session::estimate_rows(const Message& message) {
  row_estimates_.reset();
  refresh_context();
  if (terminated_) co_return;
  policy::Command command;
  bool binary_params = false;
  if (message.type == frontend::kQuery) {
    auto query = parse_query(message.body);
    if (!query) co_return;  // on_client_message reports it
    command.text.assign(query->sql);
    command.via = "query";
  } else {
    auto execute = parse_execute(message.body);
    if (!execute) co_return;
    const PortalState* portal = statements_.portal(execute->portal);
    if (portal == nullptr || !portal->text) co_return;
    command.text = *portal->text;
    command.params = portal->params;
    binary_params = portal->binary_params;
    command.via = "execute";
  }
  if (command.text.size() > context_->config->limits.max_statement_size) co_return;
  command.protocol = "postgres";
  command.connection = grant_->connection->name;
  command.classification = classify(command);
  // Only where a guardrail on rows is what would decide: every other decision stands
  // whatever the estimate (an unknown estimate matches `rows_over`).
  const auto& config = *context_->config;
  const auto first = context_->decide(config, *identity_, *grant_, command);
  if (first.verdict == policy::Verdict::allow) co_return;
  const bool by_rows = std::any_of(config.guardrails.begin(), config.guardrails.end(),
                                   [&](const config::GuardrailConfig& g) {
                                     return g.name == first.rule && g.when.rows_over.has_value();
                                   });
  if (!by_rows) co_return;
  const auto wanted = policy::statements_to_estimate(config, *identity_, *grant_, command);
  RowEstimates estimates{command.text, command.params, {}};
  const auto& statements = command.classification->statements;
  const auto context = context_;  // the target points into this snapshot
  const BackendTarget target = backend_target(*context, *grant_);
  for (std::size_t i = 0; i < statements.size(); ++i) {
    std::optional<uint64_t> rows;
    if (i < wanted.size() && wanted[i]) {
      std::string why;
      if (search_path_unknown_)
        why = "the session changed search_path in a way the gateway does not follow";
      else if (binary_params)
        why = "values bound in binary format";
      if (why.empty()) {
        // The parameters belong to the extended protocol's single statement.
        auto estimate = co_await estimator_.estimate(statements[i].text, command.params,
                                                     search_path_set_, target);
        if (terminated_) co_return;
        if (estimate)
          rows = *estimate;
        else
          why = estimate.error().message;
      }
      if (!rows)
        spdlog::info("event=row_estimate_unknown session={} subject={:?} reason={:?}", id_,
                     identity_->subject, why);
    }
    estimates.rows.push_back(rows);
  }
  row_estimates_ = std::move(estimates);
}

void Session::follow_search_path(const policy::Command& command) {
  const auto& statements = command.classification->statements;
  for (const auto& statement : statements) {
    const bool sets_it = statement.setting == "search_path" || statement.setting == "all";
    const bool by_function = std::any_of(
        statement.functions.begin(), statement.functions.end(),
        [](const std::string& f) { return f == "set_config" || f.ends_with(".set_config"); });
    if (statement.kind == "discard") {
      search_path_set_.clear();
      search_path_unknown_ = false;
    }
    if (!sets_it && !by_function) continue;
    // Followed only where it surely lasts: one SET or RESET alone, outside a transaction
    // block and the extended protocol's implicit one (a later error there would undo it),
    // with nothing before it still unanswered (the transaction status is then current).
    std::string head(statement.text.substr(0, 16));
    std::transform(head.begin(), head.end(), head.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const bool lasting = !by_function && statements.size() == 1 && command.via == "query" &&
                         transaction_status_ == 'I' && sync_points_.empty() &&
                         !head.starts_with("set local");
    if (!lasting) {
      search_path_unknown_ = true;
    } else if (statement.kind == "reset") {
      search_path_set_.clear();
      search_path_unknown_ = false;
    } else {
      search_path_set_ = statement.text;
      search_path_unknown_ = false;
    }
  }
}

Session::Action Session::hold(policy::Command command, const policy::Decision& decision,
                              bool extended) {
  review::StatementHold request;
  request.requester = &*identity_;
  request.session = id_;
  request.connection = grant_->connection->name;
  request.text = approval_binding(command);
  request.recorded_text = SessionJournal::recorded_command(command) + shown_parameters(command);
  request.decision = &decision;
  auto opened = context_->reviews->open_statement_review(request, std::chrono::system_clock::now());
  if (!opened) {
    refuse(kSqlIoError,
           "portcullis: approval required, but the review cannot be opened (see the gateway's "
           "log)",
           extended);
    journal_.decided(command, decision, false, next_sync_serial_, {});
    return Action::drop;
  }
  context_->metrics->count_verdict("review_pending");
  const SessionJournal::ReviewStep step{"review_pending", opened->id, {}, {}, false};
  journal_.decided(command, decision, false, next_sync_serial_, {}, &step);
  spdlog::info("event=command_held session={} subject={:?} via={} rule={} review={} wait_ms={}",
               id_, identity_->subject, command.via, decision.rule, opened->id,
               decision.wait.count());
  hold_.emplace();
  hold_->review = opened->id;
  hold_->command = std::move(command);
  hold_->decision = decision;
  hold_->extended = extended;
  hold_->deadline = std::chrono::steady_clock::now() + decision.wait;
  return Action::hold;
}

asio::awaitable<bool> Session::wait_for_review() {
  auto& reviews = *context_->reviews;
  const std::string id = hold_->review;
  const auto wait_s = std::chrono::duration_cast<std::chrono::seconds>(hold_->decision.wait);
  co_await write_to_client(notice_response(
      fmt::format("portcullis: approval required by rule \"{}\"; review {}; waiting up to {}s",
                  hold_->decision.rule, id, wait_s.count()),
      hold_->decision.message));
  if (live_) live_->set_held_review(id);
  std::weak_ptr<Session> weak = shared_from_this();
  const auto ticket =
      reviews.watch(id, [weak, executor = client_->get_executor()](const store::ReviewRecord& r) {
        asio::post(executor, [weak, r] {
          if (auto self = weak.lock()) self->on_review_decided(r);
        });
      });
  // Decided before the watch began (a quick reviewer): read it back.
  if (auto current = reviews.find(id);
      current && *current && (*current)->status != store::ReviewStatus::pending)
    hold_->outcome = **current;
  watch_client_during_hold();
  while (!hold_->outcome && !hold_->cancelled && !hold_->client_gone && !terminated_ &&
         std::chrono::steady_clock::now() < hold_->deadline) {
    review_timer_.expires_at(hold_->deadline);
    co_await review_timer_.async_wait(use_nothrow);
  }
  reviews.unwatch(id, ticket);
  if (live_) live_->set_held_review({});
  last_client_activity_ = std::chrono::steady_clock::now();

  const Hold held = std::move(*hold_);
  hold_.reset();
  if (terminated_ || held.client_gone) {
    const SessionJournal::ReviewStep step{
        "expired", id, {}, "57P01: the session ended while the statement was held", false};
    journal_.decided(held.command, held.decision, false, next_sync_serial_, {}, &step);
    if (held.client_gone && !terminated_) {
      spdlog::info("event=hold_abandoned session={} review={} reason=\"client left\"", id_, id);
      terminate(kSqlAdminShutdown, "portcullis: the client left while its statement was held");
    }
    co_return false;
  }
  if (held.outcome && held.outcome->status == store::ReviewStatus::approved) {
    // This session runs it: the review is spent.
    if (auto r = reviews.mark_executed(id, std::chrono::system_clock::now()); !r) {
      // Run by another session of the same subject meanwhile, or the store failed.
      spdlog::warn("event=hold_release_failed session={} review={} error={:?}", id_, id,
                   r.error().message);
      const std::string error = fmt::format("{}: {}", kSqlInsufficientPrivilege, r.error().message);
      const SessionJournal::ReviewStep step{"expired", id, {}, error, false};
      journal_.decided(held.command, held.decision, false, next_sync_serial_, {}, &step);
      refuse(kSqlInsufficientPrivilege,
             fmt::format("portcullis: review {} was approved but cannot be used: {}", id,
                         r.error().message),
             held.extended);
      co_return false;
    }
    spdlog::info("event=command_approved session={} subject={:?} review={} reviewer={:?}", id_,
                 identity_->subject, id, held.outcome->decided_by);
    const SessionJournal::ReviewStep step{"approved", id, held.outcome->decided_by, {}, true};
    context_->metrics->count_verdict("approved");
    admit(held.command, held.decision, held.extended, &step);
    co_return true;
  }
  std::string message;
  std::string verdict;
  std::string reviewer;
  std::string_view sqlstate = kSqlInsufficientPrivilege;
  if (held.outcome && held.outcome->status == store::ReviewStatus::rejected) {
    verdict = "rejected";
    reviewer = held.outcome->decided_by;
    message = fmt::format("portcullis: review {} was rejected by {}{}{}", id, reviewer,
                          held.outcome->comment.empty() ? "" : ": ", held.outcome->comment);
  } else if (held.cancelled) {
    verdict = "expired";
    sqlstate = kSqlQueryCanceled;
    message = fmt::format(
        "portcullis: canceling the held statement on user request; review {} stays pending: once "
        "approved, run the same statement again",
        id);
  } else if (held.outcome) {
    verdict = "expired";
    message = fmt::format("portcullis: review {} expired before anyone decided it", id);
  } else {
    verdict = "expired";
    message = fmt::format(
        "portcullis: review {} was not decided within {}s; it stays pending: once approved, run "
        "the same statement again within {} minutes of the approval",
        id, wait_s.count(),
        std::chrono::duration_cast<std::chrono::minutes>(context_->config->reviews.grant_lifetime)
            .count());
  }
  spdlog::info("event=command_refused session={} subject={:?} verdict={} review={}", id_,
               identity_->subject, verdict, id);
  context_->metrics->count_verdict(verdict);
  const std::string error = fmt::format("{}: {}", sqlstate, message);
  const SessionJournal::ReviewStep step{verdict, id, reviewer, error, false};
  journal_.decided(held.command, held.decision, false, next_sync_serial_, {}, &step);
  refuse(sqlstate, message, held.extended);
  co_return false;
}

void Session::watch_client_during_hold() {
  // Readable during a hold means the client sent something or left. Only its leaving is
  // acted on: EOF, a Terminate message, or (under TLS) an alert record such as close_notify.
  // Anything else is left in the socket for the relay to read after the hold.
  // Not cancelled after the hold (that would cancel a write to the client too): a watch still
  // pending serves the next hold, and ends when the client next sends anything.
  if (client_watch_pending_) return;
  client_watch_pending_ = true;
  auto& socket = client_->socket();
  socket.async_wait(asio::ip::tcp::socket::wait_read,
                    [weak = std::weak_ptr<Session>(shared_from_this())](const net::error_code& ec) {
                      auto self = weak.lock();
                      if (!self) return;
                      self->client_watch_pending_ = false;
                      if (ec || !self->hold_) return;
                      char first = 0;
                      const auto n = ::recv(self->client_->socket().native_handle(), &first, 1,
                                            MSG_PEEK | MSG_DONTWAIT);
                      const bool tls = self->client_->is_tls();
                      const bool gone = n == 0 ||
                                        (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
                                        (n == 1 && !tls && first == frontend::kTerminate) ||
                                        (n == 1 && tls && first == 21);  // TLS ContentType alert
                      if (!gone)
                        return;  // data to relay after the hold; the hold's own timeout still runs
                      self->hold_->client_gone = true;
                      self->review_timer_.cancel();
                    });
}

void Session::on_review_decided(store::ReviewRecord review) {
  if (!hold_ || hold_->review != review.id) return;
  hold_->outcome = std::move(review);
  review_timer_.cancel();
}

void Session::on_cancel_request() {
  if (!hold_) return;
  spdlog::info("event=hold_cancelled session={} review={}", id_, hold_->review);
  hold_->cancelled = true;
  review_timer_.cancel();
}

void Session::arm_access_expiry() {
  if (!grant_ || !grant_->expires_at) return;
  const auto remaining = *grant_->expires_at - std::chrono::system_clock::now();
  access_timer_.expires_after(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(remaining));
  access_timer_.async_wait(
      [weak = std::weak_ptr<Session>(shared_from_this())](const net::error_code& ec) {
        if (ec) return;
        auto self = weak.lock();
        if (!self || self->terminated_) return;
        spdlog::info("event=session_revoked session={} subject={:?} reason=\"access expired\"",
                     self->id_, self->identity_->subject);
        self->terminate(kSqlAdminShutdown,
                        fmt::format("portcullis: your just-in-time access to \"{}\" has expired; "
                                    "request it again",
                                    self->grant_->connection->name));
      });
}

policy::AccessRequestCheck Session::access_request_check(const identity::Identity& who,
                                                         std::string_view connection) const {
  if (!context_->reviews) return {};
  return [reviews = context_->reviews, subject = who.subject,
          connection = std::string(connection)](const config::AccessRuleConfig& rule)
             -> Result<std::optional<std::chrono::system_clock::time_point>> {
    return reviews->access_granted_until(subject, connection, rule.name,
                                         std::chrono::system_clock::now());
  };
}

void Session::refuse(std::string_view sqlstate, std::string_view message, bool extended) {
  auto error = error_response(sqlstate, message);
  if (extended) {
    // As PostgreSQL after an error: ignore everything up to Sync, answer at the Sync.
    skipping_until_sync_ = true;
    owed_error_ = std::move(error);
  } else {
    SyncPoint point;
    point.synthetic = true;
    point.error = std::move(error);
    push_sync_point(std::move(point));
  }
}

void Session::push_sync_point(SyncPoint point) {
  point.serial = next_sync_serial_++;
  // The batch's commands are answered at this point; a refusal the gateway answers itself
  // leaves them to the next point the backend answers.
  if (!point.synthetic) {
    point.reads_masked_columns = batch_masked_reads_;
    batch_masked_reads_ = {};
  }
  sync_points_.push_back(std::move(point));
}

void Session::on_journal_commit(bool committed) {
  --journal_waits_;
  if (!committed) journal_failed_ = true;
  journal_progress_.cancel();
}

void Session::refresh_context() {
  auto current = context_source_ ? context_source_->load() : context_;
  if (current == context_) return;
  // A reload took effect: the session goes on under the new snapshot, with the grant it
  // gives. If that grant is gone or would need another backend login, the session ends.
  auto grant = policy::select_grant(*current->config, *identity_, grant_->connection->name,
                                    access_request_check(*identity_, grant_->connection->name));
  if (!grant || grant->credentials->user != grant_->credentials->user ||
      grant->rule != grant_->rule ||
      policy::is_read_only(*grant) != policy::is_read_only(*grant_)) {
    spdlog::info("event=session_revoked session={} subject={:?} reason=\"configuration reloaded\"",
                 id_, identity_->subject);
    terminate(kSqlAdminShutdown,
              "portcullis: the configuration changed and this session's access with it; "
              "reconnect");
    return;
  }
  context_ = std::move(current);
  grant_ = std::move(*grant);
  masker_ = context_->masker(grant_->masking);
  if (masker_ && !mask_scratch_) mask_scratch_ = std::make_unique<masking::Scratch>();
  journal_.set_caps(context_->config->audit.record_results);
  journal_.set_masking(masker_, &mask_counts_, mask_scratch_.get());
  arm_access_expiry();
}

bool Session::follow_backend_message(char type) {
  switch (type) {
    case backend::kParseComplete:
      return statements_.on_parse_complete();
    case backend::kBindComplete:
      return statements_.on_bind_complete();
    case backend::kCloseComplete:
      return statements_.on_close_complete();
    case backend::kCopyInResponse:
      copy_in_started_ = true;
      return true;
    case backend::kErrorResponse:
      row_plan_valid_ = false;
      if (!sync_points_.empty()) {
        sync_points_.front().backend_errored = true;
        // The backend skips the rest of the batch: its Describes get no answer.
        const uint64_t serial = sync_points_.front().serial;
        while (!pending_describes_.empty() && pending_describes_.front().serial == serial)
          pending_describes_.pop_front();
      }
      statements_.on_error();
      return true;
    case backend::kCommandComplete:
    case backend::kEmptyQueryResponse:
    case backend::kPortalSuspended:
      row_plan_valid_ = false;  // the result ends: the next one brings its own description
      return true;
    default:
      return true;
  }
}

Session::DescribeAnswer Session::take_describe_answer() {
  if (pending_describes_.empty() || sync_points_.empty() ||
      pending_describes_.front().serial != sync_points_.front().serial)
    return DescribeAnswer::none;  // a simple Query's own RowDescription
  const PendingDescribe describe = pending_describes_.front();
  pending_describes_.pop_front();
  if (describe.injected) return DescribeAnswer::injected;
  return describe.portal ? DescribeAnswer::portal : DescribeAnswer::statement;
}

masking::ColumnPlan Session::masked_column_reads(const sql::Classification& classification) const {
  for (const auto& statement : classification.statements) {
    // A FETCH from a cursor of SQL DECLARE returns what the declared query computes, which the
    // gateway does not keep: its computed outputs are masked as if that query read masked
    // columns. (A portal of the gateway's knowledge has its facts merged already.)
    if ((statement.kind == "fetch" || statement.kind == "move") && statement.inner_kind.empty())
      return masking::ColumnPlan{masking::ColumnPlan::Action::whole, masking::Strategy::redact};
    // A whole row holds every column, the masked ones among them.
    if (statement.whole_row_reference)
      return masking::ColumnPlan{masking::ColumnPlan::Action::whole, masking::Strategy::redact};
    for (const auto& column : statement.columns_referenced) {
      const auto plan = masker_->plan_column({}, column, true);
      if (plan.action == masking::ColumnPlan::Action::whole) return plan;
    }
  }
  return {};
}

void Session::withhold(std::string_view why, std::string& synthetic,
                       std::vector<RelaySegment>& segments) {
  spdlog::info("event=result_withheld session={} subject={:?} reason={:?}", id_, identity_->subject,
               why);
  const auto error =
      error_response(kSqlInsufficientPrivilege,
                     fmt::format("portcullis: result withheld by masking profile \"{}\": {}",
                                 grant_->masking, why));
  add_segment(segments, true, synthetic.size(), error.size());
  synthetic.append(error);
  withholding_ = true;
  journal_.on_withheld(why);
  // The client has its error for this batch; one the backend may still send is dropped.
  if (!sync_points_.empty()) sync_points_.front().backend_errored = true;
}

void Session::mask_backend_message(const Message& message, std::size_t offset, std::size_t total,
                                   std::string& synthetic, std::vector<RelaySegment>& segments) {
  const DescribeAnswer answer =
      message.type == backend::kRowDescription || message.type == backend::kNoData
          ? take_describe_answer()
          : DescribeAnswer::none;
  if (withholding_) {
    // Dropped up to ReadyForQuery; the journal still learns where each statement ended.
    if (message.type == backend::kCommandComplete) journal_.on_command_complete(message.body);
    if (message.type == backend::kErrorResponse) journal_.on_error({});
    return;
  }
  if (!masker_) {
    // A reload turned masking off while Describes the gateway sent were still unanswered.
    if (answer != DescribeAnswer::injected) add_segment(segments, false, offset, total);
    return;
  }
  auto forward_rewritten = [&] {
    std::string rebuilt;
    MessageWriter(rebuilt).begin(message.type).bytes(masked_).finish();
    add_segment(segments, true, synthetic.size(), rebuilt.size());
    synthetic.append(rebuilt);
  };
  switch (message.type) {
    case backend::kRowDescription: {
      if (answer == DescribeAnswer::statement) {
        // A prepared statement's description: no rows follow it. Its results are described
        // again (by the client or by the gateway) when a portal of it runs.
        add_segment(segments, false, offset, total);
        return;
      }
      if (masker_->has_column_rules() && !tables_error_.empty()) {
        withhold("the tables of the result's columns cannot be looked up (" + tables_error_ +
                     "), and the profile masks columns by name",
                 synthetic, segments);
        tables_error_.clear();
        return;
      }
      if (auto planned = plan_result(message.body); !planned) {
        withhold(planned.error().message, synthetic, segments);
        return;
      }
      journal_.on_row_description(message.body);
      if (answer != DescribeAnswer::injected) add_segment(segments, false, offset, total);
      return;
    }
    case backend::kNoData:
      row_plan_valid_ = false;
      if (answer != DescribeAnswer::injected) add_segment(segments, false, offset, total);
      return;
    case backend::kNotificationResponse: {
      // Another session's payload (LISTEN): scanned like text of no column.
      masked_.clear();
      auto outcome =
          mask_notification(message.body, *masker_, *mask_scratch_, mask_counts_, masked_);
      if (!outcome) {
        // It may come between commands: dropped alone rather than withholding a result.
        spdlog::warn("event=notification_dropped session={} reason={:?}", id_,
                     outcome.error().message);
        return;
      }
      if (*outcome == MaskOutcome::rewritten)
        forward_rewritten();
      else
        add_segment(segments, false, offset, total);
      return;
    }
    case backend::kFunctionCallResponse: {
      // A fast-path call's result is one value, laid out as a DataRow's column: masked as
      // one. The function is known by number only, so under column rules it is masked whole.
      ColumnMasking column;
      column.plan =
          masker_->has_column_rules()
              ? masking::ColumnPlan{masking::ColumnPlan::Action::whole, masking::Strategy::redact}
              : masker_->plan_text();
      column.format =
          sync_points_.empty() ? FormatCode::binary : sync_points_.front().function_result;
      std::string row("\0\1", 2);
      row.append(message.body);
      masked_.clear();
      auto outcome = mask_data_row(row, std::span<const ColumnMasking>(&column, 1), *masker_,
                                   *mask_scratch_, mask_counts_, masked_);
      if (!outcome) {
        withhold(outcome.error().message, synthetic, segments);
        return;
      }
      if (*outcome == MaskOutcome::unchanged) {
        add_segment(segments, false, offset, total);
      } else {
        masked_.erase(0, 2);
        forward_rewritten();
      }
      return;
    }
    case backend::kDataRow: {
      if (!row_plan_valid_) {
        withhold("a result row came without a description of its own result", synthetic, segments);
        return;
      }
      masked_.clear();
      auto outcome =
          mask_data_row(message.body, row_plan_, *masker_, *mask_scratch_, mask_counts_, masked_);
      if (!outcome) {
        withhold(outcome.error().message, synthetic, segments);
        return;
      }
      if (*outcome == MaskOutcome::unchanged) {
        journal_.on_data_row(message.body, total);
        add_segment(segments, false, offset, total);
      } else {
        journal_.on_data_row(masked_, kHeaderSize + masked_.size());
        forward_rewritten();
      }
      return;
    }
    case backend::kErrorResponse:
    case backend::kNoticeResponse: {
      masked_.clear();
      std::string_view body = message.body;
      bool rewritten = false;
      if (!sync_points_.empty() &&
          sync_points_.front().reads_masked_columns.action == masking::ColumnPlan::Action::whole) {
        // The statement reads masked columns: a value the error quotes may be one of them.
        if (!redact_error_values(body, redacted_error_)) {
          withhold("the backend's error cannot be read", synthetic, segments);
          return;
        }
        body = redacted_error_;
        rewritten = true;
      }
      auto outcome = mask_error_fields(body, *masker_, *mask_scratch_, mask_counts_, masked_);
      if (outcome && *outcome == MaskOutcome::rewritten)
        rewritten = true;
      else if (rewritten)
        masked_.assign(body);
      if (message.type == backend::kErrorResponse)
        journal_.on_error(rewritten ? std::string_view(masked_) : message.body);
      if (rewritten)
        forward_rewritten();
      else
        add_segment(segments, false, offset, total);
      return;
    }
    case backend::kCommandComplete:
      journal_.on_command_complete(message.body);
      add_segment(segments, false, offset, total);
      return;
    case backend::kCopyData: {
      journal_.on_streamed_data(total);
      if (!copy_out_) {
        withhold("COPY data the gateway cannot attribute to a COPY it knows", synthetic, segments);
        return;
      }
      if (copy_out_->header_pending) {
        auto names = copy_row_values(message.body, copy_out_->format);
        if (!names) {
          withhold("the COPY's header row cannot be read", synthetic, segments);
          return;
        }
        copy_out_->header_pending = false;
        copy_out_->plans.clear();
        for (const auto& name : *names)
          copy_out_->plans.push_back(copy_column_plan(*copy_out_, name));
        add_segment(segments, false, offset, total);  // column names, as the query wrote them
        return;
      }
      masked_.clear();
      auto outcome = mask_copy_row(message.body, copy_out_->format, copy_out_->plans, *masker_,
                                   *mask_scratch_, mask_counts_, masked_);
      if (!outcome) {
        withhold(outcome.error().message, synthetic, segments);
        return;
      }
      if (*outcome == MaskOutcome::unchanged)
        add_segment(segments, false, offset, total);
      else
        forward_rewritten();
      return;
    }
    case backend::kCopyDone:
      copy_out_.reset();
      add_segment(segments, false, offset, total);
      return;
    case backend::kCopyOutResponse:
      if (auto started = start_copy_masking(message.body); !started) {
        withhold(started.error().message, synthetic, segments);
        return;
      }
      add_segment(segments, false, offset, total);
      return;
    case backend::kCopyBothResponse:
      withhold("replication streams cannot be masked", synthetic, segments);
      return;
    default:
      add_segment(segments, false, offset, total);
      return;
  }
}

Result<void> Session::plan_result(std::string_view row_description) {
  auto fields = parse_row_description(row_description);
  if (!fields) return make_error("the result's row description cannot be read");
  // What the batch computes from masked columns masks its computed outputs whole.
  const masking::ColumnPlan computed =
      sync_points_.empty() ? masking::ColumnPlan{} : sync_points_.front().reads_masked_columns;
  const bool by_name = masker_->has_column_rules();
  row_plan_.clear();
  for (const auto& field : *fields) {
    ColumnMasking column;
    const bool text_like = type_can_hold_text(field.type_oid);
    if (by_name && field.table_oid != 0) {
      // A table's column, renamed or not (`SELECT ssn AS p`): the rules see the catalog's
      // names of the table and the column, looked up before this message was handled.
      const TableNames::Table* table = tables_.find(field.table_oid);
      const std::string* name = table ? table->column(field.column) : nullptr;
      if (name != nullptr) {
        column.plan = masker_->plan_column(table->name, *name, text_like);
      } else if (field.column > 0) {
        // A user column the catalog does not show (a table created in the caller's open
        // transaction): its name cannot be known, so it is masked as a rule would.
        column.plan =
            masking::ColumnPlan{masking::ColumnPlan::Action::whole, masking::Strategy::redact};
      } else {
        column.plan = masker_->plan_column({}, field.name, text_like);  // a system column
      }
    } else {
      // An expression: matched by its output name, and masked whole when the statement reads
      // a masked column (`upper(ssn)`, `row_to_json(t)`).
      column.plan = masker_->plan_column({}, field.name, text_like);
      if (field.table_oid == 0 && computed.action == masking::ColumnPlan::Action::whole &&
          column.plan.action != masking::ColumnPlan::Action::whole)
        column.plan = computed;
    }
    column.type_oid = field.type_oid;
    column.format = field.format == 1 ? FormatCode::binary : FormatCode::text;
    row_plan_.push_back(column);
  }
  row_plan_valid_ = true;
  return {};
}

masking::ColumnPlan Session::copy_column_plan(const CopyMasking& copy,
                                              std::string_view name) const {
  auto plan = masker_->plan_column(copy.table, name, true);
  // COPY (query): its columns are outputs of a query, masked whole when it reads masked ones.
  if (copy.computed.action == masking::ColumnPlan::Action::whole &&
      plan.action != masking::ColumnPlan::Action::whole)
    plan = copy.computed;
  return plan;
}

std::vector<uint32_t> Session::tables_to_look_up(std::string_view row_description) const {
  std::vector<uint32_t> oids;
  if (!masker_ || !masker_->has_column_rules() || withholding_) return oids;
  auto fields = parse_row_description(row_description);
  if (!fields) return oids;  // the masking step refuses it
  for (const auto& field : *fields)
    if (field.table_oid != 0 && tables_.find(field.table_oid) == nullptr &&
        std::find(oids.begin(), oids.end(), field.table_oid) == oids.end())
      oids.push_back(field.table_oid);
  return oids;
}

Result<void> Session::start_copy_masking(std::string_view body) {
  copy_out_.reset();
  if (body.empty()) return make_error("the COPY's format cannot be read");
  if (body[0] != 0)
    return make_error("binary COPY cannot be masked; use COPY ... TO STDOUT in text or CSV format");
  // The COPY that is running is the first one allowed at the sync point being answered.
  const uint64_t serial = sync_points_.empty() ? 0 : sync_points_.front().serial;
  auto it = std::find_if(pending_copies_.begin(), pending_copies_.end(),
                         [&](const PendingCopy& copy) { return copy.serial == serial; });
  if (sync_points_.empty() || it == pending_copies_.end())
    return make_error("the gateway does not know this COPY's row format");
  const sql::CopyOptions options = std::move(it->options);
  pending_copies_.erase(it);

  CopyMasking copy;
  auto one_char = [](const std::string& given, char fallback,
                     std::string_view what) -> Result<char> {
    if (given.empty()) return fallback;
    if (given.size() != 1)
      return make_error(fmt::format("the COPY's {} is not a single byte", what));
    return given[0];
  };
  if (options.format == "csv") {
    copy.format.csv = true;
    auto delimiter = one_char(options.delimiter, ',', "delimiter");
    if (!delimiter) return delimiter.error();
    auto quote = one_char(options.quote, '"', "quote");
    if (!quote) return quote.error();
    auto escape = one_char(options.escape, *quote, "escape");
    if (!escape) return escape.error();
    copy.format.delimiter = *delimiter;
    copy.format.quote = *quote;
    copy.format.escape = *escape;
    copy.format.null = options.null.value_or("");
    copy.header_pending = options.header;
  } else if (options.format == "text") {
    auto delimiter = one_char(options.delimiter, '\t', "delimiter");
    if (!delimiter) return delimiter.error();
    copy.format.delimiter = *delimiter;
    copy.format.null = options.null.value_or("\\N");
  } else {
    return make_error(fmt::format("COPY in {} format cannot be masked", options.format));
  }
  // Rules match a table's name without its schema, as for result columns (pg_dump writes
  // COPY public.customers (...)).
  copy.table = unqualified_table(options.table);
  if (copy.table.empty() && !sync_points_.empty())
    copy.computed = sync_points_.front().reads_masked_columns;
  if (!options.columns.empty()) {
    copy.header_pending = false;  // the names are the statement's; a header row is data
    for (const auto& name : options.columns) copy.plans.push_back(copy_column_plan(copy, name));
  } else if (!copy.header_pending && masker_->has_column_rules()) {
    // Without names a column rule cannot be applied: refuse rather than let a column the
    // profile masks whole go out with only its content scanned.
    return make_error(
        "the profile masks columns by name, and this COPY does not name its columns; list "
        "them (COPY t (a, b) TO STDOUT) or use FORMAT csv, HEADER");
  }
  copy_out_ = std::move(copy);
  return {};
}

void Session::drain_synthetic(std::string& out) {
  while (!sync_points_.empty() && sync_points_.front().synthetic) {
    out.append(sync_points_.front().error);
    append_ready_for_query(out, transaction_status_);
    sync_points_.pop_front();
  }
}

bool Session::on_ready_for_query(std::string& synthetic, std::vector<Segment>& segments) {
  // Syncs sent during COPY FROM STDIN were swallowed by the backend: no answer will come.
  if (copy_in_started_) {
    while (sync_points_.size() > 1 && sync_points_.front().maybe_swallowed &&
           !sync_points_.front().synthetic) {
      sync_points_.pop_front();
      statements_.drop_first_sync_point();
    }
    copy_in_started_ = false;
  }
  statements_.on_ready_for_query();
  if (sync_points_.empty() || sync_points_.front().synthetic) return false;
  SyncPoint point = std::move(sync_points_.front());
  sync_points_.pop_front();
  row_plan_valid_ = false;
  while (!pending_describes_.empty() && pending_describes_.front().serial <= point.serial)
    pending_describes_.pop_front();
  journal_.on_ready_for_query(point.serial);
  while (!pending_copies_.empty() && pending_copies_.front().serial <= point.serial)
    pending_copies_.pop_front();
  copy_out_.reset();
  // The error owed for a refused extended-protocol message, unless the backend already
  // reported one in the same batch (PostgreSQL reports only the first).
  if (!point.error.empty() && !point.backend_errored) {
    add_segment(segments, true, synthetic.size(), point.error.size());
    synthetic.append(point.error);
  }
  return true;
}

asio::awaitable<void> Session::pump_backend_to_client() {
  net::ByteBuffer in(kRelayBufferSize, message_budget_.get());
  if (!backend_pending_.empty()) {
    if (!in.reserve_message(backend_pending_.size())) {
      co_await write_to_client(buffer_budget_exhausted(backend_pending_.size()));
      co_return;
    }
    auto space = in.writable();
    std::memcpy(space.data(), backend_pending_.data(), backend_pending_.size());
    in.commit(backend_pending_.size());
    backend_pending_.clear();
  }
  const std::size_t max_message = context_->config->limits.max_message_size;
  std::vector<Segment> segments;
  std::vector<asio::const_buffer> buffers;
  std::string synthetic;
  Passthrough passthrough;
  bool first = true;
  bool drained = true;     // the last read emptied the socket: wait before taking a buffer
  bool reprocess = false;  // whole messages are buffered still: handle them before reading
  for (;;) {
    if ((!first || in.empty()) && !reprocess) {
      net::error_code read_ec;
      std::size_t n = 0;
      if (drained && in.empty() && backend_->can_wait_unbuffered()) {
        in.release();
        auto [wait_ec] =
            co_await backend_->socket().async_wait(net::tcp::socket::wait_read, use_nothrow);
        if (wait_ec) co_return;
        const auto space = in.writable();
        n = backend_->read_now(space, read_ec);
        if (read_ec == asio::error::would_block) continue;  // nothing after all: wait again
        drained = n < space.size();
      } else {
        const auto space = in.writable();
        std::tie(read_ec, n) = co_await backend_->read_some(space);
        drained = n < space.size();
      }
      if (read_ec) co_return;
      in.commit(n);
    }
    first = false;
    reprocess = false;
    std::vector<uint32_t> look_up;

    const std::string_view input = in.readable();
    std::size_t pos = 0;
    std::size_t whole_message_needed = 0;
    bool lost_track = false;
    bool unsafe_setting = false;
    bool progressed = false;
    segments.clear();
    synthetic.clear();
    while (pos < input.size()) {
      if (passthrough.step(input.size(), pos, segments)) continue;
      FrameHeader header;
      std::string error;
      const auto status = decode_header(input.substr(pos), kMaxStreamedMessage, header, error);
      if (status == DecodeStatus::need_more) break;
      if (status == DecodeStatus::invalid) {
        spdlog::warn("event=protocol_error session={} direction=backend error={:?}", id_, error);
        lost_track = true;
        break;
      }
      const std::size_t total = kHeaderSize + header.body_size;
      const bool describe_answer =
          (header.type == backend::kRowDescription || header.type == backend::kNoData) &&
          !pending_describes_.empty();
      if (((masker_ || withholding_) && masked_type(header.type)) || describe_answer) {
        if ((header.type == backend::kDataRow || header.type == backend::kCopyData) &&
            header.body_size > max_message) {
          if (!follow_backend_message(header.type)) {
            lost_track = true;
            break;
          }
          if (!withholding_)
            withhold(fmt::format("a result row of {} bytes is larger than limits.max_message_size "
                                 "and cannot be masked",
                                 header.body_size),
                     synthetic, segments);
          passthrough = Passthrough{total, true};
          continue;
        }
        if (input.size() - pos < total) {
          whole_message_needed = total;
          break;
        }
        if (header.type == backend::kRowDescription) {
          look_up = tables_to_look_up(input.substr(pos + kHeaderSize, header.body_size));
          if (!look_up.empty()) break;  // handled again once the names are known
        }
        if (!follow_backend_message(header.type)) {
          lost_track = true;
          break;
        }
        mask_backend_message(
            Message{header.type, input.substr(pos + kHeaderSize, header.body_size)}, pos, total,
            synthetic, segments);
        pos += total;
        continue;
      }
      if (header.type == backend::kParameterStatus) {
        // The server announces every change of the settings that decide how it reads
        // query text; the classifier must read it the same way, or the session ends.
        if (input.size() - pos < total) {
          whole_message_needed = total;
          break;
        }
        auto status = parse_parameter_status(input.substr(pos + kHeaderSize, header.body_size));
        if (!status || !text_reading_is_safe(status->name, status->value)) {
          spdlog::warn("event=unsafe_text_setting session={} setting={:?} value={:?}", id_,
                       status ? status->name : "?", status ? status->value : "?");
          unsafe_setting = true;
          break;
        }
        if (masker_ && !withholding_) {
          // A reported setting can carry data: set_config('application_name', ssn, false).
          const bool reads_masked =
              !sync_points_.empty() && sync_points_.front().reads_masked_columns.action ==
                                           masking::ColumnPlan::Action::whole;
          masked_.clear();
          auto outcome =
              mask_parameter_status(input.substr(pos + kHeaderSize, header.body_size), *masker_,
                                    *mask_scratch_, mask_counts_, reads_masked, masked_);
          if (outcome && *outcome == MaskOutcome::rewritten) {
            std::string rebuilt;
            MessageWriter(rebuilt).begin(header.type).bytes(masked_).finish();
            add_segment(segments, true, synthetic.size(), rebuilt.size());
            synthetic.append(rebuilt);
            pos += total;
            continue;
          }
        }
        add_segment(segments, false, pos, total);
        pos += total;
        continue;
      }
      if (header.type != backend::kReadyForQuery) {
        if (journal_.active()) {
          const bool whole = input.size() - pos >= total;
          const auto body = input.substr(pos + kHeaderSize, whole ? header.body_size : 0);
          bool wait_whole = false;
          switch (header.type) {
            case backend::kRowDescription:
            case backend::kCommandComplete:
            case backend::kErrorResponse:
              wait_whole = !whole;
              break;
            case backend::kDataRow:
              // A row split across reads is kept too, unless it is too large to buffer.
              wait_whole = !whole && total <= kRelayBufferSize;
              break;
            default:
              break;
          }
          if (wait_whole) {
            whole_message_needed = total;
            break;
          }
          switch (header.type) {
            case backend::kRowDescription:
              journal_.on_row_description(body);
              break;
            case backend::kCommandComplete:
              journal_.on_command_complete(body);
              break;
            case backend::kErrorResponse:
              journal_.on_error(body);
              break;
            case backend::kDataRow:
              if (whole)
                journal_.on_data_row(body, total);
              else
                journal_.on_streamed_data(total);
              break;
            case backend::kCopyData:
              journal_.on_streamed_data(total);
              break;
            case backend::kEmptyQueryResponse:
              journal_.on_empty_query();
              break;
            case backend::kPortalSuspended:
              journal_.on_portal_suspended();
              break;
            default:
              break;
          }
        }
        if (!follow_backend_message(header.type)) {
          spdlog::warn(
              "event=protocol_error session={} direction=backend error=\"unexpected "
              "completion message '{}'\"",
              id_, header.type);
          lost_track = true;
          break;
        }
        passthrough = Passthrough{total, withholding_};
        continue;
      }
      // ReadyForQuery is acted on once, when it is whole.
      if (input.size() - pos < total) {
        whole_message_needed = total;
        break;
      }
      auto ready = parse_ready_for_query(input.substr(pos + kHeaderSize, header.body_size));
      if (ready) transaction_status_ = ready->transaction_status;
      withholding_ = false;
      if (!on_ready_for_query(synthetic, segments)) {
        spdlog::warn(
            "event=protocol_error session={} direction=backend error=\"ReadyForQuery "
            "with no command outstanding\"",
            id_);
        lost_track = true;
        break;
      }
      progressed = true;
      add_segment(segments, false, pos, total);
      pos += total;
      const std::size_t before = synthetic.size();
      drain_synthetic(synthetic);
      add_segment(segments, true, before, synthetic.size() - before);
    }
    if (!segments.empty()) {
      if (!client_write_lock_.try_lock()) co_await client_write_lock_.lock();
      auto [write_ec, written] =
          co_await client_->write(to_buffers(segments, input, synthetic, buffers));
      client_write_lock_.unlock();
      if (write_ec) co_return;
      bytes_to_client_ += written;
      if (live_) live_->bytes_out.store(bytes_to_client_, std::memory_order_relaxed);
    }
    if (progressed) backend_progress_.cancel();
    if (unsafe_setting) {
      co_await write_to_client(error_response(
          kSqlProtocolViolation,
          "portcullis: the server now reads query text differently from the gateway "
          "(client_encoding or standard_conforming_strings changed); ending the session",
          Severity::fatal));
      co_return;
    }
    if (lost_track) {
      // Fail closed: the gateway can no longer tell which answer belongs to which command.
      co_await write_to_client(error_response(
          kSqlProtocolViolation, "portcullis: lost track of the backend's answers; reconnect",
          Severity::fatal));
      co_return;
    }
    in.consume(pos);
    if (whole_message_needed > 0 && !in.reserve_message(whole_message_needed)) {
      spdlog::warn("event=buffer_budget_exhausted session={} bytes={}", id_, whole_message_needed);
      co_await write_to_client(buffer_budget_exhausted(whole_message_needed));
      co_return;
    }
    // A large message's memory goes back as soon as it has been relayed.
    if (in.capacity() > kRelayBufferSize) in.release();
    if (!look_up.empty()) {
      // The snapshot the target points into stays alive while the lookup runs.
      const auto context = context_;
      auto found = co_await tables_.look_up(std::move(look_up), backend_target(*context, *grant_));
      if (!found) {
        spdlog::warn("event=table_lookup_failed session={} error={:?}", id_, found.error().message);
        tables_error_ = found.error().message;
      }
      if (terminated_) co_return;
      reprocess = true;
    }
  }
}

}  // namespace portcullis::proto::postgres
