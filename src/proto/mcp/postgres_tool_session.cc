// The query tool's in-process PostgreSQL client.
#include "proto/mcp/postgres_tool_session.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/write.hpp>

#include "net/stream.h"
#include "proto/postgres/data_row.h"
#include "proto/postgres/decoder.h"
#include "proto/postgres/encoder.h"
#include "proto/postgres/sqlstate.h"

namespace portcullis::proto::mcp {
namespace asio = boost::asio;
namespace pg = postgres;
using net::use_nothrow;

namespace {

// Larger messages than this from the front end end the session (it bounds its own, under
// limits.max_message_size; this only keeps a runaway from growing the buffer without end).
constexpr std::size_t kMaxFrame = 256 * 1024 * 1024;

ToolError error_of_response_fields(std::string_view body) {
  ToolError error{.code = "XX000", .message = "unreadable error", .detail = {}};
  auto fields = pg::parse_error_fields(body);
  if (!fields) return error;
  if (auto code = fields->field('C')) error.code = std::string(*code);
  if (auto message = fields->field('M')) error.message = std::string(*message);
  if (auto detail = fields->field('D')) error.detail = std::string(*detail);
  return error;
}

// PostgreSQL's names for the types of common columns (pg_type.dat); others by number.
std::string type_name(uint32_t oid) {
  switch (oid) {
    case 16:
      return "boolean";
    case 17:
      return "bytea";
    case 18:
      return "char";
    case 19:
      return "name";
    case 20:
      return "bigint";
    case 21:
      return "smallint";
    case 23:
      return "integer";
    case 25:
      return "text";
    case 26:
      return "oid";
    case 114:
      return "json";
    case 700:
      return "real";
    case 701:
      return "double precision";
    case 1042:
      return "character";
    case 1043:
      return "character varying";
    case 1082:
      return "date";
    case 1083:
      return "time";
    case 1114:
      return "timestamp";
    case 1184:
      return "timestamptz";
    case 1700:
      return "numeric";
    case 2950:
      return "uuid";
    case 3802:
      return "jsonb";
    default:
      return fmt::format("oid {}", oid);
  }
}

ToolColumn column_of(std::string_view name, uint32_t oid) {
  ValueKind kind = ValueKind::text;
  if (oid == 20 || oid == 21 || oid == 23 || oid == 26) kind = ValueKind::integer;
  if (oid == 16) kind = ValueKind::boolean;
  return ToolColumn{.name = std::string(name), .type = type_name(oid), .kind = kind};
}

}  // namespace

std::string held_review_of_notice(std::string_view message) {
  if (!message.starts_with("portcullis: approval required by rule ")) return {};
  constexpr std::string_view kMarker = "; review r-";
  const auto at = message.find(kMarker);
  if (at == std::string_view::npos) return {};
  const auto start = at + kMarker.size() - 2;
  const auto stop = message.find(';', start);
  if (stop == std::string_view::npos) return {};
  return std::string(message.substr(start, stop - start));
}

PostgresToolSession::PostgresToolSession(asio::any_io_executor executor, Adopt adopt,
                                         std::string client_address, HoldProbe held)
    : executor_(executor),
      adopt_(std::move(adopt)),
      client_address_(std::move(client_address)),
      held_(std::move(held)),
      socket_(executor),
      run_timer_(executor),
      busy_(executor) {}

PostgresToolSession::~PostgresToolSession() {
  close();
}

asio::awaitable<std::variant<std::shared_ptr<PostgresToolSession>, ToolError>>
PostgresToolSession::open(asio::any_io_executor executor, Adopt adopt, std::string subject,
                          std::string connection, Secret credential, std::string client_address,
                          HoldProbe held) {
  auto session = std::make_shared<PostgresToolSession>(executor, std::move(adopt),
                                                       std::move(client_address), std::move(held));
  auto pair = make_socketpair();
  if (!pair) co_return ToolError{.code = "58000", .message = pair.error().message, .detail = {}};
  boost::system::error_code ec;
  session->socket_.assign(asio::local::stream_protocol(), pair->first, ec);
  if (ec) {
    ::close(pair->first);
    ::close(pair->second);
    co_return ToolError{.code = "58000", .message = ec.message(), .detail = {}};
  }
  if (auto adopted = session->adopt_(gateway::InProcessConnection{
          .fd = pair->second, .client_address = session->client_address_});
      !adopted) {
    session->ended_ = true;
    co_return ToolError{.code = std::string(pg::kSqlTooManyConnections),
                        .message = adopted.error().message,
                        .detail = {}};
  }
  if (auto refused = co_await session->sign_in(subject, connection, credential)) co_return *refused;
  co_return session;
}

asio::awaitable<std::optional<ToolError>> PostgresToolSession::sign_in(
    const std::string& subject, const std::string& connection, const Secret& credential) {
  std::string out;
  pg::append_startup_message(out, {{"user", subject},
                                   {"database", connection},
                                   {"application_name", "portcullis-mcp"},
                                   {"client_encoding", "UTF8"}});
  if (!co_await write(out)) co_return end("the gateway's PostgreSQL session closed");
  for (;;) {
    auto frame = co_await read_frame();
    if (!frame) co_return end(frame.error().message);
    switch (frame->type) {
      case pg::backend::kAuthentication: {
        auto request = pg::parse_authentication(frame->body);
        if (!request) co_return end("unreadable authentication request");
        if (request->code == pg::AuthCode::ok) break;
        if (request->code != pg::AuthCode::cleartext_password)
          co_return end("the gateway asked for an authentication this client does not speak");
        std::string password;
        pg::append_password_message(password, credential.reveal());
        const bool written = co_await write(password);
        OPENSSL_cleanse(password.data(), password.size());
        if (!written) co_return end("the gateway's PostgreSQL session closed");
        break;
      }
      case pg::backend::kBackendKeyData:
        if (auto key = pg::parse_backend_key_data(frame->body)) key_ = *key;
        break;
      case pg::backend::kErrorResponse: {
        ended_ = true;
        co_return error_of_response_fields(frame->body);
      }
      case pg::backend::kReadyForQuery:
        co_return std::nullopt;
      default:
        break;  // ParameterStatus, NoticeResponse
    }
  }
}

asio::awaitable<std::variant<QueryAnswer, ToolError>> PostgresToolSession::run(std::string sql,
                                                                               QueryLimits limits) {
  if (!busy_.try_lock()) co_await busy_.lock();
  struct Unlock {
    net::AsyncLock& lock;
    ~Unlock() { lock.unlock(); }
  } unlock{busy_};
  co_return co_await run_alone(std::move(sql), limits);
}

asio::awaitable<std::variant<QueryAnswer, ToolError>> PostgresToolSession::run_alone(
    std::string sql, QueryLimits limits) {
  if (ended_)
    co_return ToolError{.code = std::string(pg::kSqlAdminShutdown),
                        .message = "the session has ended",
                        .detail = {}};
  std::string out;
  pg::MessageWriter(out).begin('Q').cstring(sql).finish();
  if (!co_await write(out)) co_return end("the gateway's PostgreSQL session closed");

  QueryAnswer answer;
  std::size_t bytes_kept = 0;
  ToolResult* current = nullptr;
  auto self = shared_from_this();
  asio::steady_timer hold_timer(executor_);
  // The statement's own time limit, not counting a hold (the wait has its own): past it the
  // statement is cancelled as psql's Ctrl-C cancels one.
  auto timed_out = std::make_shared<bool>(false);
  arm_run_timer(limits.timeout, timed_out);
  struct Disarm {
    asio::steady_timer& timer;
    ~Disarm() { timer.cancel(); }
  } disarm{run_timer_};
  for (;;) {
    auto frame = co_await read_frame();
    if (!frame) co_return end(frame.error().message);
    switch (frame->type) {
      case pg::backend::kRowDescription: {
        auto fields = pg::parse_row_description(frame->body);
        if (!fields) co_return end("unreadable row description");
        current = &answer.results.emplace_back();
        bytes_kept += kResultCost;
        for (const auto& field : *fields)
          current->columns.push_back(column_of(field.name, field.type_oid));
        break;
      }
      case pg::backend::kDataRow: {
        if (current == nullptr) co_return end("a row without a description");
        ++current->rows_sent;
        if (current->rows.size() >= limits.max_rows || bytes_kept >= limits.max_bytes) {
          current->truncated = true;
          break;
        }
        auto reader = pg::DataRowReader::open(frame->body);
        if (!reader) co_return end("unreadable row");
        auto& row = current->rows.emplace_back();
        bytes_kept += kRowCost;
        while (!reader->done()) {
          auto value = reader->next();
          if (!value) co_return end("unreadable row");
          bytes_kept += kValueCost;
          if (*value) {
            bytes_kept += (*value)->size();
            row.emplace_back(std::string(**value));
          } else {
            row.emplace_back(std::nullopt);
          }
        }
        break;
      }
      case pg::backend::kCopyOutResponse:
        // COPY … TO STDOUT: its lines (masked by the front end) as rows of one column.
        current = &answer.results.emplace_back();
        current->columns.push_back(column_of("copy", 25));
        break;
      case pg::backend::kCopyData:
        if (current == nullptr) break;
        ++current->rows_sent;
        if (current->rows.size() >= limits.max_rows || bytes_kept >= limits.max_bytes) {
          current->truncated = true;
          break;
        }
        bytes_kept += kRowCost + frame->body.size();
        current->rows.push_back({std::optional<std::string>(frame->body)});
        break;
      case pg::backend::kCopyInResponse: {
        // COPY … FROM STDIN: this tool sends no data.
        std::string fail;
        pg::MessageWriter(fail).begin('f').cstring("the query tool sends no COPY data").finish();
        if (!co_await write(fail)) co_return end("the gateway's PostgreSQL session closed");
        break;
      }
      case pg::backend::kCommandComplete: {
        const std::string_view body(frame->body);
        const std::string tag(body.substr(0, body.find('\0')));
        if (current == nullptr) current = &answer.results.emplace_back();
        current->command = tag;
        current = nullptr;
        break;
      }
      case pg::backend::kEmptyQueryResponse:
        current = nullptr;
        break;
      case pg::backend::kErrorResponse: {
        auto error = error_of_response_fields(frame->body);
        auto fields = pg::parse_error_fields(frame->body);
        const bool fatal = fields && fields->field('S') && *fields->field('S') == "FATAL";
        if (fatal) {
          ended_ = true;
          socket_.close();
          co_return error;
        }
        answer.error = std::move(error);
        current = nullptr;
        break;
      }
      case pg::backend::kNoticeResponse: {
        const auto notice = error_of_response_fields(frame->body);
        if (auto review = held_review_of_notice(notice.message); !review.empty()) {
          answer.review = review;
          if (limits.wait.count() == 0) {
            co_await send_cancel();
          } else {
            hold_timer.expires_after(limits.wait);
            hold_timer.async_wait([self, review](const boost::system::error_code& ec) {
              // Still held for this review: a statement approved just now runs on.
              if (!ec && (!self->held_ || self->held_() == review))
                asio::co_spawn(self->executor_, self->send_cancel(), asio::detached);
            });
          }
        } else {
          if (answer.notices.size() < kMaxNotices)
            answer.notices.push_back(notice.message.substr(0, kMaxNoticeBytes));
        }
        break;
      }
      case pg::backend::kReadyForQuery: {
        hold_timer.cancel();
        if (auto status = pg::parse_ready_for_query(frame->body))
          answer.transaction = status->transaction_status;
        answer.timed_out = *timed_out;
        co_return answer;
      }
      default:
        break;  // ParameterStatus, NotificationResponse, CopyDone
    }
  }
}

void PostgresToolSession::arm_run_timer(std::chrono::seconds timeout,
                                        std::shared_ptr<bool> timed_out) {
  run_timer_.expires_after(timeout);
  run_timer_.async_wait(
      [self = shared_from_this(), timeout, timed_out](const boost::system::error_code& ec) {
        if (ec) return;
        // Held: the hold's wait decides; the statement's own time starts again once it runs.
        if (self->held_ && !self->held_().empty()) {
          self->arm_run_timer(timeout, timed_out);
          return;
        }
        *timed_out = true;
        asio::co_spawn(self->executor_, self->send_cancel(), asio::detached);
      });
}

asio::awaitable<void> PostgresToolSession::send_cancel() {
  auto pair = make_socketpair();
  if (!pair) co_return;
  asio::local::stream_protocol::socket cancel(executor_);
  boost::system::error_code ec;
  cancel.assign(asio::local::stream_protocol(), pair->first, ec);
  if (ec) {
    ::close(pair->first);
    ::close(pair->second);
    co_return;
  }
  if (!adopt_(gateway::InProcessConnection{.fd = pair->second, .client_address = client_address_}))
    co_return;
  std::string out;
  pg::append_cancel_request(
      out, pg::CancelRequest{.process_id = key_.process_id, .secret_key = key_.secret_key});
  co_await asio::async_write(cancel, asio::buffer(out), use_nothrow);
}

asio::awaitable<Result<PostgresToolSession::Frame>> PostgresToolSession::read_frame() {
  for (;;) {
    pg::Message message;
    std::size_t consumed = 0;
    std::string error;
    switch (pg::decode_message(input_, kMaxFrame, message, consumed, error)) {
      case pg::DecodeStatus::ready: {
        Frame frame{message.type, std::string(message.body)};
        input_.erase(0, consumed);
        co_return frame;
      }
      case pg::DecodeStatus::invalid:
        co_return make_error("the gateway's PostgreSQL session sent " + error);
      case pg::DecodeStatus::need_more:
        break;
    }
    char chunk[16 * 1024];
    auto [ec, read] = co_await socket_.async_read_some(asio::buffer(chunk), use_nothrow);
    if (ec || read == 0) co_return make_error("the gateway's PostgreSQL session closed");
    input_.append(chunk, read);
  }
}

asio::awaitable<bool> PostgresToolSession::write(const std::string& bytes) {
  auto [ec, written] = co_await asio::async_write(socket_, asio::buffer(bytes), use_nothrow);
  co_return !ec;
}

ToolError PostgresToolSession::end(std::string message) {
  ended_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  return ToolError{
      .code = std::string(pg::kSqlConnectionFailure), .message = std::move(message), .detail = {}};
}

void PostgresToolSession::close() {
  if (!socket_.is_open()) return;
  if (!ended_) {
    // Terminate, sent without waiting: the socket's buffer takes five bytes at once.
    std::string out;
    pg::append_terminate(out);
    boost::system::error_code ignored;
    socket_.non_blocking(true, ignored);
    socket_.send(asio::buffer(out), 0, ignored);
  }
  ended_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
}

}  // namespace portcullis::proto::mcp
