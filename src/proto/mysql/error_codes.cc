// Refusals as MySQL errors.
#include "proto/mysql/error_codes.h"

#include <fmt/format.h>

namespace portcullis::proto::mysql {

ErrorCode error_code_of(gateway::RefusalReason reason) {
  using gateway::RefusalReason;
  switch (reason) {
    case RefusalReason::busy:
      return kConCount;
    case RefusalReason::tls_required:
      return kSecureTransportRequired;
    case RefusalReason::authentication_failed:
      return kAccessDenied;
    case RefusalReason::access_denied:
      return kDbAccessDenied;
    case RefusalReason::not_ready:
      return kServerShutdown;
    case RefusalReason::denied:
    case RefusalReason::review_required:
    case RefusalReason::rejected:
      return kTableAccessDenied;
    case RefusalReason::expired:
      return kLockWaitTimeout;
    case RefusalReason::cancelled:
      return kQueryInterrupted;
    case RefusalReason::unavailable:
      return kUnknownError;
    case RefusalReason::too_large:
      return kNetPacketTooLarge;
    case RefusalReason::session_ended:
      return kConnectionKilled;
    case RefusalReason::connection_lost:
      return kUnknownError;
  }
  return kUnknownError;
}

std::string error_text(uint16_t code, std::string_view sql_state, std::string_view message) {
  return fmt::format("ERROR {} ({}): {}", code, sql_state, message);
}

std::string journal_error_text(gateway::RefusalReason reason, std::string_view message) {
  const auto code = error_code_of(reason);
  return error_text(code.code, code.sql_state, message);
}

}  // namespace portcullis::proto::mysql
