// The MySQL error numbers and SQLSTATEs the gateway answers with, and how a refusal becomes
// one. Clients print them as "ERROR 1142 (42000): ...".
// Reference: https://mariadb.com/kb/en/mariadb-error-code-reference/
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/refusal.h"

namespace portcullis::proto::mysql {

struct ErrorCode {
  uint16_t code = 0;
  std::string_view sql_state;
};

inline constexpr ErrorCode kAccessDenied{1045, "28000"};             // ER_ACCESS_DENIED_ERROR
inline constexpr ErrorCode kTableAccessDenied{1142, "42000"};        // ER_TABLEACCESS_DENIED_ERROR
inline constexpr ErrorCode kDbAccessDenied{1044, "42000"};           // ER_DBACCESS_DENIED_ERROR
inline constexpr ErrorCode kBadDb{1049, "42000"};                    // ER_BAD_DB_ERROR
inline constexpr ErrorCode kConCount{1040, "08004"};                 // ER_CON_COUNT_ERROR
inline constexpr ErrorCode kHandshake{1043, "08S01"};                // ER_HANDSHAKE_ERROR
inline constexpr ErrorCode kUnknownCommand{1047, "08S01"};           // ER_UNKNOWN_COM_ERROR
inline constexpr ErrorCode kNetPacketTooLarge{1153, "08S01"};        // ER_NET_PACKET_TOO_LARGE
inline constexpr ErrorCode kServerShutdown{1053, "08S01"};           // ER_SERVER_SHUTDOWN
inline constexpr ErrorCode kConnectionKilled{1927, "70100"};         // ER_CONNECTION_KILLED
inline constexpr ErrorCode kQueryInterrupted{1317, "70100"};         // ER_QUERY_INTERRUPTED
inline constexpr ErrorCode kNotSupported{1235, "42000"};             // ER_NOT_SUPPORTED_YET
inline constexpr ErrorCode kUnknownError{1105, "HY000"};             // ER_UNKNOWN_ERROR
inline constexpr ErrorCode kSecureTransportRequired{3159, "HY000"};  // ER_SECURE_TRANSPORT_REQUIRED
inline constexpr ErrorCode kUnknownStmtHandler{1243, "HY000"};       // ER_UNKNOWN_STMT_HANDLER
inline constexpr ErrorCode kNoSuchThread{1094, "HY000"};             // ER_NO_SUCH_THREAD
inline constexpr ErrorCode kLockWaitTimeout{1205, "HY000"};          // ER_LOCK_WAIT_TIMEOUT

// The error a refusal is sent as.
ErrorCode error_code_of(gateway::RefusalReason reason);

// How the journal writes a refusal: "ERROR 1142 (42000): message", as clients print it.
std::string journal_error_text(gateway::RefusalReason reason, std::string_view message);
std::string error_text(uint16_t code, std::string_view sql_state, std::string_view message);

}  // namespace portcullis::proto::mysql
