// Capability flags, status flags and command bytes of the MySQL protocol, with MariaDB's
// extended capabilities in the upper 32 bits.
// References:
// https://dev.mysql.com/doc/dev/mysql-server/latest/group__group__cs__capabilities__flags.html and
// https://mariadb.com/kb/en/connection/#capabilities
#pragma once

#include <cstdint>
#include <string_view>

namespace portcullis::proto::mysql {

using Capabilities = uint64_t;

namespace capability {
inline constexpr Capabilities kLongPassword = 1u << 0;  // MariaDB servers clear it: see below
inline constexpr Capabilities kFoundRows = 1u << 1;
inline constexpr Capabilities kLongFlag = 1u << 2;
inline constexpr Capabilities kConnectWithDb = 1u << 3;
inline constexpr Capabilities kNoSchema = 1u << 4;
inline constexpr Capabilities kCompress = 1u << 5;
inline constexpr Capabilities kOdbc = 1u << 6;
inline constexpr Capabilities kLocalFiles = 1u << 7;
inline constexpr Capabilities kIgnoreSpace = 1u << 8;
inline constexpr Capabilities kProtocol41 = 1u << 9;
inline constexpr Capabilities kInteractive = 1u << 10;
inline constexpr Capabilities kSsl = 1u << 11;
inline constexpr Capabilities kIgnoreSigpipe = 1u << 12;
inline constexpr Capabilities kTransactions = 1u << 13;
inline constexpr Capabilities kReserved = 1u << 14;
inline constexpr Capabilities kSecureConnection = 1u << 15;
inline constexpr Capabilities kMultiStatements = 1u << 16;
inline constexpr Capabilities kMultiResults = 1u << 17;
inline constexpr Capabilities kPsMultiResults = 1u << 18;
inline constexpr Capabilities kPluginAuth = 1u << 19;
inline constexpr Capabilities kConnectAttrs = 1u << 20;
inline constexpr Capabilities kPluginAuthLenencData = 1u << 21;
inline constexpr Capabilities kCanHandleExpiredPasswords = 1u << 22;
inline constexpr Capabilities kSessionTrack = 1u << 23;
inline constexpr Capabilities kDeprecateEof = 1u << 24;
inline constexpr Capabilities kOptionalResultsetMetadata = 1u << 25;
inline constexpr Capabilities kZstdCompression = 1u << 26;
inline constexpr Capabilities kQueryAttributes = 1u << 27;
inline constexpr Capabilities kSslVerifyServerCert = 1u << 30;
inline constexpr Capabilities kRememberOptions = 1u << 31;
// MariaDB's, sent in the 4 bytes MySQL reserves, when the server clears kLongPassword.
inline constexpr Capabilities kMariadbProgress = 1ull << 32;
inline constexpr Capabilities kMariadbComMulti = 1ull << 33;
inline constexpr Capabilities kMariadbStmtBulk = 1ull << 34;
inline constexpr Capabilities kMariadbExtendedTypeInfo = 1ull << 35;
inline constexpr Capabilities kMariadbCacheMetadata = 1ull << 36;
}  // namespace capability

// What the gateway can relay and inspect: offered to clients and asked of backends (only what
// both the client and the backend have). Not here, and so never negotiated: compression (the
// gateway must read every byte), LOCAL INFILE (lets a server read any file of the client),
// MySQL 8's query attributes and optional metadata, MariaDB's progress reports, COM_MULTI,
// bulk execution, extended type information and cached metadata.
inline constexpr Capabilities kRelayedCapabilities =
    capability::kLongPassword | capability::kFoundRows | capability::kLongFlag |
    capability::kConnectWithDb | capability::kOdbc | capability::kProtocol41 |
    capability::kInteractive | capability::kIgnoreSigpipe | capability::kTransactions |
    capability::kSecureConnection | capability::kMultiStatements | capability::kMultiResults |
    capability::kPsMultiResults | capability::kPluginAuth | capability::kConnectAttrs |
    capability::kPluginAuthLenencData | capability::kSessionTrack | capability::kDeprecateEof;

// Server status flags (OK and EOF packets).
namespace status {
inline constexpr uint16_t kInTransaction = 0x0001;
inline constexpr uint16_t kAutocommit = 0x0002;
inline constexpr uint16_t kMoreResultsExist = 0x0008;
inline constexpr uint16_t kCursorExists = 0x0040;
inline constexpr uint16_t kLastRowSent = 0x0080;
inline constexpr uint16_t kInTransactionReadOnly = 0x2000;
inline constexpr uint16_t kSessionStateChanged = 0x4000;
}  // namespace status

// Command bytes: the first byte of every packet a client sends after the handshake.
enum class CommandCode : uint8_t {
  sleep = 0x00,
  quit = 0x01,
  init_db = 0x02,
  query = 0x03,
  field_list = 0x04,
  create_db = 0x05,
  drop_db = 0x06,
  refresh = 0x07,
  shutdown = 0x08,
  statistics = 0x09,
  process_info = 0x0a,
  connect = 0x0b,
  process_kill = 0x0c,
  debug = 0x0d,
  ping = 0x0e,
  time = 0x0f,
  delayed_insert = 0x10,
  change_user = 0x11,
  binlog_dump = 0x12,
  table_dump = 0x13,
  connect_out = 0x14,
  register_slave = 0x15,
  stmt_prepare = 0x16,
  stmt_execute = 0x17,
  stmt_send_long_data = 0x18,
  stmt_close = 0x19,
  stmt_reset = 0x1a,
  set_option = 0x1b,
  stmt_fetch = 0x1c,
  daemon = 0x1d,
  binlog_dump_gtid = 0x1e,
  reset_connection = 0x1f,
  mariadb_stmt_bulk_execute = 0xfa,
  mariadb_multi = 0xfe,
};

// "COM_QUERY", "COM_STMT_EXECUTE", ...; "COM_0x42" for a byte no server defines.
std::string command_name(uint8_t code);

}  // namespace portcullis::proto::mysql
