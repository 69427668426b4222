// The SQLSTATE codes the gateway itself sends, named as in PostgreSQL's errcodes.txt
// (https://www.postgresql.org/docs/15/errcodes-appendix.html).
#pragma once

#include <string_view>

namespace portcullis::proto::postgres {

inline constexpr std::string_view kSqlClientUnableToConnect = "08001";
inline constexpr std::string_view kSqlConnectionFailure = "08006";
inline constexpr std::string_view kSqlProtocolViolation = "08P01";
inline constexpr std::string_view kSqlFeatureNotSupported = "0A000";
inline constexpr std::string_view kSqlInvalidAuthorization = "28000";
inline constexpr std::string_view kSqlInvalidPassword = "28P01";
inline constexpr std::string_view kSqlInvalidCursorName = "34000";
inline constexpr std::string_view kSqlInsufficientPrivilege = "42501";
inline constexpr std::string_view kSqlOutOfMemory = "53200";
inline constexpr std::string_view kSqlTooManyConnections = "53300";
inline constexpr std::string_view kSqlProgramLimitExceeded = "54000";
inline constexpr std::string_view kSqlQueryCanceled = "57014";
inline constexpr std::string_view kSqlAdminShutdown = "57P01";
inline constexpr std::string_view kSqlCannotConnectNow = "57P03";
inline constexpr std::string_view kSqlIdleSessionTimeout = "57P05";
inline constexpr std::string_view kSqlIoError = "58030";

}  // namespace portcullis::proto::postgres
