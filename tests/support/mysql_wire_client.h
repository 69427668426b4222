// MysqlWireClient: a MySQL client on the raw protocol, built on the gateway's own codec, for
// what the mariadb client and PyMySQL never send: the binary protocol (COM_STMT_PREPARE /
// EXECUTE / FETCH / SEND_LONG_DATA), commands in unusual orders, replication and
// COM_CHANGE_USER packets. Plain TCP, blocking, with a receive timeout so that a hang fails the
// test instead of stalling it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/mysql/capabilities.h"
#include "proto/mysql/response.h"
#include "proto/mysql/statement_packets.h"

namespace portcullis::testing {

using MysqlRow = std::vector<std::optional<std::string>>;

// The answer to one command, read as a client reads it (every result of a multi-statement).
struct MysqlAnswer {
  bool ok = false;  // ended without an error
  uint16_t error_code = 0;
  std::string sql_state;
  std::string error;                                    // the ERR packet's message
  std::vector<proto::mysql::ColumnDefinition> columns;  // of the last result set
  std::vector<MysqlRow> rows;  // of every result set, binary values read as text
  uint64_t affected_rows = 0;
  std::size_t results = 0;
  bool closed = false;  // the connection closed or timed out before the answer ended
};

class MysqlWireClient {
 public:
  // Connects to 127.0.0.1:`port`, answers the gateway's auth switch with `token` and asks for
  // `database` (the connection's name). ok() says whether it worked.
  MysqlWireClient(uint16_t port, const std::string& user, const std::string& token,
                  const std::string& database,
                  proto::mysql::Capabilities extra = proto::mysql::capability::kMultiStatements);
  ~MysqlWireClient();
  MysqlWireClient(const MysqlWireClient&) = delete;
  MysqlWireClient& operator=(const MysqlWireClient&) = delete;

  bool ok() const { return ready_; }
  const std::string& login_error() const { return login_error_; }
  uint32_t connection_id() const { return connection_id_; }

  MysqlAnswer query(std::string_view sql);
  // A command packet of any kind (command byte first), and its answer read as `binary` rows
  // or text ones.
  MysqlAnswer command(std::string_view payload, bool binary = false);
  // Sends a packet and reads nothing (COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA).
  void send(std::string_view payload, uint8_t sequence = 0);

  struct Prepared {
    bool ok = false;
    std::string error;
    uint16_t error_code = 0;
    uint32_t id = 0;
    uint16_t params = 0;
    std::vector<proto::mysql::ColumnDefinition> columns;
  };
  Prepared prepare(std::string_view sql);
  // COM_STMT_EXECUTE with every parameter sent as a string (NULL for nullopt).
  MysqlAnswer execute(const Prepared& statement, const MysqlRow& params,
                      uint8_t flags = proto::mysql::kCursorTypeNoCursor);
  MysqlAnswer fetch(const Prepared& statement, uint32_t rows);

 private:
  static std::string native_password_placeholder();
  bool read_packet(std::string& payload);
  void write_packet(std::string_view payload, uint8_t sequence);
  MysqlAnswer read_answer(bool binary, const std::vector<proto::mysql::ColumnDefinition>* known);

  int fd_ = -1;
  bool ready_ = false;
  std::string login_error_;
  uint32_t connection_id_ = 0;
  proto::mysql::Capabilities capabilities_ = 0;
  uint8_t last_sequence_ = 0;
};

}  // namespace portcullis::testing
