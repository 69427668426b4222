// Refusal: why the gateway will not let a connection in or a command through, in words every
// front end can use. Each protocol turns the reason into its own error form (a SQLSTATE, a
// MySQL error number, an HTTP status, an exit status) in its own folder.
#pragma once

#include <string>
#include <string_view>

namespace portcullis::gateway {

enum class RefusalReason {
  // Admission.
  busy,                   // too many connections, or too many logging in at once
  tls_required,           // a plaintext connection where the listener requires TLS
  authentication_failed,  // the credential was not accepted
  access_denied,          // no access rule grants the connection
  not_ready,              // the gateway cannot take connections now (journal unwritable)
  // Commands.
  denied,           // a rule refused it
  review_required,  // a rule asks for a review and nothing could hold the command
  rejected,         // a reviewer rejected it
  expired,          // nobody decided its review in time, or the approval cannot be used
  cancelled,        // the caller withdrew the held command
  unavailable,      // the journal or the review store cannot be written: fail closed
  too_large,        // larger than the gateway inspects
  // The session ends: killed, revoked, access expired, configuration changed, shutdown.
  session_ended,
  // The connection to the target broke with commands still running (recorded, not sent).
  connection_lost,
};

struct Refusal {
  RefusalReason reason = RefusalReason::denied;
  std::string rule;     // the rule that refused, when one did
  std::string message;  // for the caller, without a protocol's prefix or code
};

inline std::string_view to_string(RefusalReason reason) {
  switch (reason) {
    case RefusalReason::busy:
      return "busy";
    case RefusalReason::tls_required:
      return "tls_required";
    case RefusalReason::authentication_failed:
      return "authentication_failed";
    case RefusalReason::access_denied:
      return "access_denied";
    case RefusalReason::not_ready:
      return "not_ready";
    case RefusalReason::denied:
      return "denied";
    case RefusalReason::review_required:
      return "review_required";
    case RefusalReason::rejected:
      return "rejected";
    case RefusalReason::expired:
      return "expired";
    case RefusalReason::cancelled:
      return "cancelled";
    case RefusalReason::unavailable:
      return "unavailable";
    case RefusalReason::too_large:
      return "too_large";
    case RefusalReason::session_ended:
      return "session_ended";
    case RefusalReason::connection_lost:
      return "connection_lost";
  }
  return "denied";
}

}  // namespace portcullis::gateway
