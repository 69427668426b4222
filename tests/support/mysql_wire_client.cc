// The raw MySQL test client.
#include "mysql_wire_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/mysql/handshake.h"
#include "proto/mysql/packet.h"

namespace portcullis::testing {
using namespace proto::mysql;

namespace {
constexpr int kMysqlReceiveTimeoutSeconds = 30;
}  // namespace

MysqlWireClient::MysqlWireClient(uint16_t port, const std::string& user, const std::string& token,
                                 const std::string& database, Capabilities extra) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    login_error_ = "connect failed";
    return;
  }
  timeval timeout{.tv_sec = kMysqlReceiveTimeoutSeconds, .tv_usec = 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string payload;
  if (!read_packet(payload)) {
    login_error_ = "no greeting";
    return;
  }
  auto greeting = decode_greeting(payload);
  if (!greeting) {
    auto err = decode_err(payload);
    login_error_ = err ? err->message : greeting.error().message;
    return;
  }
  connection_id_ = greeting->thread_id;
  capabilities_ = capability::kProtocol41 | capability::kSecureConnection |
                  capability::kPluginAuth | capability::kPluginAuthLenencData |
                  capability::kConnectWithDb | capability::kDeprecateEof |
                  capability::kMultiResults | capability::kPsMultiResults |
                  capability::kTransactions | capability::kLongPassword | extra;
  HandshakeResponse response;
  response.capabilities = capabilities_;
  response.max_packet = 1u << 24;
  response.user = user;
  response.auth_response = native_password_placeholder();
  response.database = database;
  response.auth_plugin = std::string(kNativePassword);
  write_packet(encode_handshake_response(response), 1);
  for (;;) {
    if (!read_packet(payload)) {
      login_error_ = "closed during login";
      return;
    }
    const uint8_t header = payload.empty() ? 0xff : static_cast<uint8_t>(payload[0]);
    if (header == kOkHeader) break;
    if (header == kErrHeader) {
      auto err = decode_err(payload);
      login_error_ = err ? err->message : "malformed error";
      return;
    }
    if (header == kEofHeader) {  // the auth switch: the token in clear
      write_packet(token + std::string(1, '\0'), static_cast<uint8_t>(last_sequence_ + 1));
      continue;
    }
    login_error_ = "unexpected packet during login";
    return;
  }
  ready_ = true;
}

std::string MysqlWireClient::native_password_placeholder() {
  return std::string(20, 'x');  // the gateway switches to mysql_clear_password at once
}

MysqlWireClient::~MysqlWireClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool MysqlWireClient::read_packet(std::string& payload) {
  payload.clear();
  for (;;) {
    unsigned char header[4];
    std::size_t got = 0;
    while (got < sizeof header) {
      const ssize_t n = ::recv(fd_, header + got, sizeof header - got, 0);
      if (n <= 0) return false;
      got += static_cast<std::size_t>(n);
    }
    const std::size_t length = header[0] | (header[1] << 8) | (header[2] << 16);
    last_sequence_ = header[3];
    const std::size_t start = payload.size();
    payload.resize(start + length);
    got = 0;
    while (got < length) {
      const ssize_t n = ::recv(fd_, payload.data() + start + got, length - got, 0);
      if (n <= 0) return false;
      got += static_cast<std::size_t>(n);
    }
    if (length < kMaxPacketPayload) return true;
  }
}

void MysqlWireClient::write_packet(std::string_view payload, uint8_t sequence) {
  std::string bytes;
  append_packet(bytes, payload, sequence);
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

void MysqlWireClient::send(std::string_view payload, uint8_t sequence) {
  write_packet(payload, sequence);
}

MysqlAnswer MysqlWireClient::query(std::string_view sql) {
  std::string payload(1, static_cast<char>(CommandCode::query));
  payload.append(sql);
  return command(payload);
}

MysqlAnswer MysqlWireClient::command(std::string_view payload, bool binary) {
  write_packet(payload, 0);
  return read_answer(binary, nullptr);
}

MysqlAnswer MysqlWireClient::read_answer(bool binary, const std::vector<ColumnDefinition>* known) {
  MysqlAnswer answer;
  std::string payload;
  bool more = true;
  while (more) {
    more = false;
    if (!read_packet(payload)) {
      answer.closed = true;
      return answer;
    }
    uint8_t header = payload.empty() ? 0xff : static_cast<uint8_t>(payload[0]);
    if (header == kErrHeader) {
      auto err = decode_err(payload);
      answer.ok = false;
      answer.error_code = err ? err->code : 0;
      answer.sql_state = err ? err->sql_state : "";
      answer.error = err ? err->message : "malformed error";
      return answer;
    }
    ++answer.results;
    if (header == kOkHeader && !known) {
      auto ok = decode_ok(payload, capabilities_);
      answer.ok = true;
      if (ok) {
        answer.affected_rows = ok->affected_rows;
        more = (ok->status & status::kMoreResultsExist) != 0;
      }
      continue;
    }
    std::vector<ColumnDefinition> columns;
    bool first_is_row = false;
    if (known) {
      columns = *known;
      first_is_row = true;
    } else {
      PacketReader r(payload);
      const uint64_t count = r.lenenc_int();
      for (uint64_t i = 0; i < count; ++i) {
        if (!read_packet(payload)) {
          answer.closed = true;
          return answer;
        }
        auto column = decode_column_definition(payload);
        if (column) columns.push_back(*column);
      }
    }
    answer.columns = columns;
    for (;;) {
      if (!first_is_row && !read_packet(payload)) {
        answer.closed = true;
        return answer;
      }
      first_is_row = false;
      header = payload.empty() ? 0xff : static_cast<uint8_t>(payload[0]);
      if (is_result_end(payload, capabilities_)) {
        const uint16_t end_status = result_end_status(payload, capabilities_);
        more = (end_status & status::kMoreResultsExist) != 0;
        answer.ok = true;
        break;
      }
      if (header == kErrHeader) {
        auto err = decode_err(payload);
        answer.ok = false;
        answer.error_code = err ? err->code : 0;
        answer.sql_state = err ? err->sql_state : "";
        answer.error = err ? err->message : "malformed error";
        return answer;
      }
      RowValues values;
      MysqlRow row;
      if (binary) {
        if (!decode_binary_row(payload, columns, values)) continue;
        for (std::size_t i = 0; i < values.size(); ++i) {
          if (!values[i]) {
            row.emplace_back(std::nullopt);
          } else if (binary_value_is_string(columns[i].type)) {
            row.emplace_back(std::string(*values[i]));
          } else {
            row.emplace_back(binary_param_as_text(
                *values[i],
                {.type = columns[i].type, .is_unsigned = (columns[i].flags & kUnsignedFlag) != 0}));
          }
        }
      } else {
        if (!decode_text_row(payload, columns.size(), values)) continue;
        for (const auto& v : values)
          row.emplace_back(v ? std::optional<std::string>(std::string(*v)) : std::nullopt);
      }
      answer.rows.push_back(std::move(row));
    }
  }
  return answer;
}

MysqlWireClient::Prepared MysqlWireClient::prepare(std::string_view sql) {
  Prepared prepared;
  std::string payload(1, static_cast<char>(CommandCode::stmt_prepare));
  payload.append(sql);
  write_packet(payload, 0);
  if (!read_packet(payload)) {
    prepared.error = "closed";
    return prepared;
  }
  if (!payload.empty() && static_cast<uint8_t>(payload[0]) == kErrHeader) {
    auto err = decode_err(payload);
    prepared.error = err ? err->message : "malformed error";
    prepared.error_code = err ? err->code : 0;
    return prepared;
  }
  auto ok = decode_prepare_ok(payload);
  if (!ok) {
    prepared.error = ok.error().message;
    return prepared;
  }
  prepared.id = ok->statement_id;
  prepared.params = ok->params;
  for (uint16_t i = 0; i < ok->params; ++i) read_packet(payload);
  for (uint16_t i = 0; i < ok->columns; ++i) {
    read_packet(payload);
    if (auto column = decode_column_definition(payload)) prepared.columns.push_back(*column);
  }
  prepared.ok = true;
  return prepared;
}

MysqlAnswer MysqlWireClient::execute(const Prepared& statement, const MysqlRow& params,
                                     uint8_t flags) {
  std::string payload;
  PacketWriter w(payload);
  w.u8(static_cast<uint8_t>(CommandCode::stmt_execute)).u32(statement.id).u8(flags).u32(1);
  if (!params.empty()) {
    std::string bitmap((params.size() + 7) / 8, '\0');
    for (std::size_t i = 0; i < params.size(); ++i)
      if (!params[i]) bitmap[i / 8] = static_cast<char>(bitmap[i / 8] | (1 << (i % 8)));
    w.bytes(bitmap).u8(1);
    for (std::size_t i = 0; i < params.size(); ++i)
      w.u8(static_cast<uint8_t>(FieldType::var_string)).u8(0);
    for (const auto& p : params)
      if (p) w.lenenc_string(*p);
  }
  write_packet(payload, 0);
  return read_answer(true, nullptr);
}

MysqlAnswer MysqlWireClient::fetch(const Prepared& statement, uint32_t rows) {
  std::string payload;
  PacketWriter(payload)
      .u8(static_cast<uint8_t>(CommandCode::stmt_fetch))
      .u32(statement.id)
      .u32(rows);
  write_packet(payload, 0);
  return read_answer(true, &statement.columns);
}

}  // namespace portcullis::testing
