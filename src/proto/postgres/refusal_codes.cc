// SQLSTATEs of the gateway's refusals.
#include "proto/postgres/refusal_codes.h"

#include <fmt/format.h>

#include "proto/postgres/sqlstate.h"

namespace portcullis::proto::postgres {

std::string_view sqlstate_of(gateway::RefusalReason reason) {
  using gateway::RefusalReason;
  switch (reason) {
    case RefusalReason::busy:
      return kSqlTooManyConnections;
    case RefusalReason::tls_required:
    case RefusalReason::access_denied:
      return kSqlInvalidAuthorization;
    case RefusalReason::authentication_failed:
      return kSqlInvalidPassword;
    case RefusalReason::not_ready:
      return kSqlCannotConnectNow;
    case RefusalReason::denied:
    case RefusalReason::review_required:
    case RefusalReason::rejected:
    case RefusalReason::expired:
      return kSqlInsufficientPrivilege;
    case RefusalReason::cancelled:
      return kSqlQueryCanceled;
    case RefusalReason::unavailable:
      return kSqlIoError;
    case RefusalReason::too_large:
      return kSqlProgramLimitExceeded;
    case RefusalReason::session_ended:
      return kSqlAdminShutdown;
    case RefusalReason::connection_lost:
      return kSqlConnectionFailure;
  }
  return kSqlInsufficientPrivilege;
}

std::string journal_error_text(gateway::RefusalReason reason, std::string_view message) {
  return fmt::format("{}: {}", sqlstate_of(reason), message);
}

}  // namespace portcullis::proto::postgres
