// The query tool's in-process MySQL client.
#include "proto/mcp/mysql_tool_session.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "net/stream.h"
#include "proto/mysql/capabilities.h"
#include "proto/mysql/handshake.h"
#include "proto/mysql/packet.h"
#include "proto/mysql/response.h"

namespace portcullis::proto::mcp {
namespace asio = boost::asio;
namespace my = mysql;
using net::use_nothrow;

namespace {

// The most a packet from the front end may carry (it bounds its own under
// limits.max_message_size; this keeps a runaway from growing the buffer without end).
constexpr std::size_t kMaxPayload = 256 * 1024 * 1024;

// What this client asks for. No kSsl (the socket never leaves the process), no
// kLocalFiles (a LOAD DATA LOCAL asks for nothing this tool would send), no kDeprecateEof
// (the classic EOF packets are read either way).
constexpr my::Capabilities kCapabilities =
    my::capability::kLongPassword | my::capability::kConnectWithDb | my::capability::kProtocol41 |
    my::capability::kTransactions | my::capability::kSecureConnection |
    my::capability::kMultiStatements | my::capability::kMultiResults | my::capability::kPluginAuth |
    my::capability::kPluginAuthLenencData;

std::string type_name(my::FieldType type) {
  using T = my::FieldType;
  switch (type) {
    case T::decimal:
    case T::newdecimal:
      return "decimal";
    case T::tiny:
      return "tinyint";
    case T::short_:
      return "smallint";
    case T::long_:
      return "int";
    case T::float_:
      return "float";
    case T::double_:
      return "double";
    case T::null:
      return "null";
    case T::timestamp:
    case T::timestamp2:
      return "timestamp";
    case T::longlong:
      return "bigint";
    case T::int24:
      return "mediumint";
    case T::date:
    case T::newdate:
      return "date";
    case T::time:
    case T::time2:
      return "time";
    case T::datetime:
    case T::datetime2:
      return "datetime";
    case T::year:
      return "year";
    case T::varchar:
    case T::var_string:
      return "varchar";
    case T::bit:
      return "bit";
    case T::vector:
      return "vector";
    case T::json:
      return "json";
    case T::enum_:
      return "enum";
    case T::set:
      return "set";
    case T::tiny_blob:
    case T::medium_blob:
    case T::long_blob:
    case T::blob:
      return "blob";
    case T::string:
      return "char";
    case T::geometry:
      return "geometry";
  }
  return fmt::format("type {}", static_cast<int>(type));
}

ToolColumn column_of(const my::ColumnDefinition& definition) {
  using T = my::FieldType;
  const bool integer = definition.type == T::tiny || definition.type == T::short_ ||
                       definition.type == T::long_ || definition.type == T::longlong ||
                       definition.type == T::int24 || definition.type == T::year;
  return ToolColumn{.name = definition.name,
                    .type = type_name(definition.type),
                    .kind = integer ? ValueKind::integer : ValueKind::text};
}

ToolError error_of_err_packet(std::string_view payload) {
  auto err = my::decode_err(payload);
  if (!err) return ToolError{.code = "HY000", .message = "unreadable error", .detail = {}};
  return ToolError{.code = fmt::format("{} ({})", err->code, err->sql_state),
                   .message = std::move(err->message),
                   .detail = {}};
}

bool is_err(std::string_view payload) {
  return !payload.empty() && static_cast<uint8_t>(payload[0]) == 0xff;
}

bool is_ok(std::string_view payload) {
  return !payload.empty() && static_cast<uint8_t>(payload[0]) == 0x00;
}

}  // namespace

MysqlToolSession::MysqlToolSession(asio::any_io_executor executor, HoldProbe held)
    : executor_(executor), held_(std::move(held)), socket_(executor), busy_(executor) {}

MysqlToolSession::~MysqlToolSession() {
  close();
}

asio::awaitable<std::variant<std::shared_ptr<MysqlToolSession>, ToolError>> MysqlToolSession::open(
    asio::any_io_executor executor, Adopt adopt, std::string subject, std::string connection,
    Secret credential, std::string client_address, HoldProbe held) {
  auto session = std::make_shared<MysqlToolSession>(executor, std::move(held));
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    co_return ToolError{.code = {}, .message = std::strerror(errno), .detail = {}};
  boost::system::error_code ec;
  session->socket_.assign(asio::local::stream_protocol(), fds[0], ec);
  if (ec) {
    ::close(fds[0]);
    ::close(fds[1]);
    co_return ToolError{.code = {}, .message = ec.message(), .detail = {}};
  }
  if (auto adopted = adopt(
          gateway::InProcessConnection{.fd = fds[1], .client_address = std::move(client_address)});
      !adopted) {
    session->ended_ = true;
    co_return ToolError{.code = "1040 (08004)", .message = adopted.error().message, .detail = {}};
  }
  if (auto refused = co_await session->sign_in(subject, connection, credential)) co_return *refused;
  co_return session;
}

asio::awaitable<std::optional<ToolError>> MysqlToolSession::sign_in(const std::string& subject,
                                                                    const std::string& connection,
                                                                    const Secret& credential) {
  auto greeting_packet = co_await read_packet();
  if (!greeting_packet) co_return end(greeting_packet.error().message);
  if (is_err(greeting_packet->payload)) {
    ended_ = true;
    co_return error_of_err_packet(greeting_packet->payload);
  }
  auto greeting = my::decode_greeting(greeting_packet->payload);
  if (!greeting) co_return end("unreadable greeting: " + greeting.error().message);
  capabilities_ = kCapabilities & greeting->capabilities;

  my::HandshakeResponse response;
  response.capabilities = capabilities_;
  response.max_packet = 16 * 1024 * 1024;
  response.charset = my::kDefaultCharset;
  response.user = subject;
  response.auth_response = credential.reveal();
  response.database = connection;
  response.auth_plugin = std::string(my::kClearPassword);
  std::string payload = my::encode_handshake_response(response);
  OPENSSL_cleanse(response.auth_response.data(), response.auth_response.size());
  const bool sent = co_await write_packet(payload, greeting_packet->sequence + 1);
  OPENSSL_cleanse(payload.data(), payload.size());
  if (!sent) co_return end("the gateway's MySQL session closed");

  for (;;) {
    auto answer = co_await read_packet();
    if (!answer) co_return end(answer.error().message);
    if (is_ok(answer->payload)) co_return std::nullopt;
    if (is_err(answer->payload)) {
      ended_ = true;
      co_return error_of_err_packet(answer->payload);
    }
    if (!answer->payload.empty() && static_cast<uint8_t>(answer->payload[0]) == 0xfe) {
      // An auth switch: the token in clear, NUL-terminated, as mysql_clear_password sends it.
      std::string password = credential.reveal();
      password.push_back('\0');
      const bool written = co_await write_packet(password, answer->sequence + 1);
      OPENSSL_cleanse(password.data(), password.size());
      if (!written) co_return end("the gateway's MySQL session closed");
      continue;
    }
    co_return end("the gateway's MySQL session answered the login with an unknown packet");
  }
}

asio::awaitable<std::variant<QueryAnswer, ToolError>> MysqlToolSession::run(std::string sql,
                                                                            QueryLimits limits) {
  if (!busy_.try_lock()) co_await busy_.lock();
  struct Unlock {
    net::AsyncLock& lock;
    ~Unlock() { lock.unlock(); }
  } unlock{busy_};
  co_return co_await run_alone(std::move(sql), limits);
}

asio::awaitable<std::variant<QueryAnswer, ToolError>> MysqlToolSession::run_alone(
    std::string sql, QueryLimits limits) {
  if (ended_)
    co_return ToolError{.code = "2006 (HY000)", .message = "the session has ended", .detail = {}};
  std::string command(1, static_cast<char>(my::CommandCode::query));
  command += sql;
  if (!co_await write_packet(command, 0)) co_return end("the gateway's MySQL session closed");
  running_ = true;
  const uint64_t statement = ++statement_;
  withdrawn_.clear();
  timed_out_ = false;
  asio::co_spawn(
      executor_,
      [self = shared_from_this(), statement, wait = limits.wait, timeout = limits.timeout] {
        return self->watch_hold(statement, wait, timeout);
      },
      asio::detached);
  struct Done {
    bool& running;
    ~Done() { running = false; }
  } done{running_};

  QueryAnswer answer;
  std::size_t kept = 0;
  for (;;) {
    auto first = co_await read_packet();
    if (!first) {
      if (!withdrawn_.empty()) {
        // Left while held: nothing ran, the review stays pending.
        answer.review = withdrawn_;
        ended_ = true;
        co_return answer;
      }
      if (timed_out_) {
        answer.timed_out = true;
        answer.error = ToolError{.code = "1317 (70100)",
                                 .message =
                                     "the statement ran past its timeout: its connection "
                                     "was closed, which ends it",
                                 .detail = {}};
        ended_ = true;
        co_return answer;
      }
      co_return end(first.error().message);
    }
    uint16_t status = 0;
    if (is_err(first->payload)) {
      answer.error = error_of_err_packet(first->payload);
      // The front end ends a session (kill, revoke) with an error and then closes.
      break;
    }
    if (!co_await read_result_set(std::move(first->payload), answer, limits, kept, status))
      co_return end("the gateway's MySQL session closed");
    answer.transaction = (status & my::status::kInTransaction) ? 'T' : 'I';
    if (!(status & my::status::kMoreResultsExist)) break;
  }
  // A killed or revoked session (or one the gateway shuts down) says so, then closes.
  if (answer.error &&
      (answer.error->code.starts_with("1927 ") || answer.error->code.starts_with("1053 "))) {
    ended_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
    co_return *answer.error;
  }
  co_return answer;
}

asio::awaitable<bool> MysqlToolSession::read_result_set(std::string first, QueryAnswer& answer,
                                                        const QueryLimits& limits,
                                                        std::size_t& kept, uint16_t& status) {
  auto& result = answer.results.emplace_back();
  kept += kResultCost;
  if (is_ok(first)) {
    auto ok = my::decode_ok(first, capabilities_);
    if (!ok) co_return false;
    result.command = "OK";
    result.affected_rows = ok->affected_rows;
    status = ok->status;
    co_return true;
  }
  if (!first.empty() && static_cast<uint8_t>(first[0]) == my::kLocalInfileHeader) {
    // LOAD DATA LOCAL: the front end refuses it unless a rule allows it; this tool sends no
    // file either way (an empty packet ends the transfer).
    if (!co_await write_packet({}, 2)) co_return false;
    auto after = co_await read_packet();
    if (!after) co_return false;
    answer.results.pop_back();
    if (is_err(after->payload)) {
      answer.error = error_of_err_packet(after->payload);
      co_return true;
    }
    co_return co_await read_result_set(std::move(after->payload), answer, limits, kept, status);
  }
  my::PacketReader count_reader(first);
  const uint64_t count = count_reader.lenenc_int();
  if (!count_reader.ok() || count == 0 || count > 4096) co_return false;
  std::vector<my::ColumnDefinition> definitions;
  for (uint64_t i = 0; i < count; ++i) {
    auto packet = co_await read_packet();
    if (!packet) co_return false;
    auto definition = my::decode_column_definition(packet->payload);
    if (!definition) co_return false;
    result.columns.push_back(column_of(*definition));
    definitions.push_back(std::move(*definition));
  }
  if (!(capabilities_ & my::capability::kDeprecateEof)) {
    auto eof = co_await read_packet();
    if (!eof) co_return false;
  }
  my::RowValues values;
  for (;;) {
    auto packet = co_await read_packet();
    if (!packet) co_return false;
    if (is_err(packet->payload)) {
      answer.error = error_of_err_packet(packet->payload);
      status = 0;
      co_return true;
    }
    if (my::is_result_end(packet->payload, capabilities_)) {
      status = my::result_end_status(packet->payload, capabilities_);
      co_return true;
    }
    ++result.rows_sent;
    if (result.rows.size() >= limits.max_rows || kept >= limits.max_bytes) {
      result.truncated = true;
      continue;
    }
    if (!my::decode_text_row(packet->payload, definitions.size(), values)) co_return false;
    auto& row = result.rows.emplace_back();
    kept += kRowCost;
    for (const auto& value : values) {
      kept += kValueCost;
      if (value) {
        kept += value->size();
        row.emplace_back(std::string(*value));
      } else {
        row.emplace_back(std::nullopt);
      }
    }
  }
}

asio::awaitable<void> MysqlToolSession::watch_hold(uint64_t statement, std::chrono::seconds wait,
                                                   std::chrono::seconds timeout) {
  asio::steady_timer timer(executor_);
  std::optional<std::chrono::steady_clock::time_point> held_since;
  // The statement's own time, not counting a hold (the wait has its own).
  auto running_since = std::chrono::steady_clock::now();
  const auto mine = [&] { return running_ && statement_ == statement && !ended_; };
  while (mine()) {
    timer.expires_after(kHoldPoll);
    co_await timer.async_wait(use_nothrow);
    if (!mine()) co_return;
    const std::string review = held_ ? held_() : std::string();
    const auto now = std::chrono::steady_clock::now();
    boost::system::error_code ignored;
    if (review.empty()) {
      if (held_since) running_since = now;  // released: it runs from now
      held_since.reset();
      if (now - running_since < timeout) continue;
      timed_out_ = true;
      socket_.close(ignored);
      co_return;
    }
    if (!held_since) held_since = now;
    if (now - *held_since < wait) continue;
    // Withdrawn by leaving: the front end records that the client left while the statement
    // was held, and the review stays open for a later identical statement.
    withdrawn_ = review;
    socket_.close(ignored);
    co_return;
  }
}

asio::awaitable<Result<MysqlToolSession::Packet>> MysqlToolSession::read_packet() {
  for (;;) {
    my::Frame frame;
    switch (my::next_frame(input_, kMaxPayload, frame)) {
      case my::FrameStatus::ready:
        input_.erase(0, frame.consumed);
        co_return Packet{std::move(frame.payload), frame.sequence};
      case my::FrameStatus::too_large:
        co_return make_error("the gateway's MySQL session sent a packet over 256 MiB");
      case my::FrameStatus::need_more:
        break;
    }
    char chunk[16 * 1024];
    auto [ec, read] = co_await socket_.async_read_some(asio::buffer(chunk), use_nothrow);
    if (ec || read == 0) co_return make_error("the gateway's MySQL session closed");
    input_.append(chunk, read);
  }
}

asio::awaitable<bool> MysqlToolSession::write_packet(std::string_view payload, uint8_t sequence) {
  std::string out;
  my::append_packet(out, payload, sequence);
  auto [ec, written] = co_await asio::async_write(socket_, asio::buffer(out), use_nothrow);
  co_return !ec;
}

ToolError MysqlToolSession::end(std::string message) {
  ended_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  return ToolError{.code = "2013 (HY000)", .message = std::move(message), .detail = {}};
}

void MysqlToolSession::close() {
  if (!socket_.is_open()) return;
  if (!ended_) {
    // COM_QUIT, sent without waiting: the socket's buffer takes five bytes at once.
    std::string out;
    my::append_packet(out, std::string(1, static_cast<char>(my::CommandCode::quit)), 0);
    boost::system::error_code ignored;
    socket_.non_blocking(true, ignored);
    socket_.send(asio::buffer(out), 0, ignored);
  }
  ended_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
}

}  // namespace portcullis::proto::mcp
