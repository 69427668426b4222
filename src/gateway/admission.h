// Admission: whether a caller may open a session, protocol-neutral. The front end reads what
// its protocol carries (the claimed subject, the connection asked for, the credential) and
// asks here; it then opens the backend and hands the session to its CommandGate.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "common/secret.h"
#include "gateway/context.h"
#include "gateway/refusal.h"
#include "gateway/session_recorder.h"
#include "identity/identity.h"
#include "policy/access.h"

namespace portcullis::gateway {

// Who is asking, as far as the front end knows before any credential.
struct Caller {
  std::string_view protocol;  // the front end's name: "postgres"
  // The connection kinds this front end reaches ("postgres"); empty: any.
  std::span<const std::string_view> kinds;
  std::string_view session;  // the session's id, for logs
  std::string_view client_address;
  bool encrypted = false;          // the client's transport is TLS
  bool loopback_listener = false;  // accepted on a listener bound to a loopback address
};

// Whether the caller's transport is acceptable before it is asked for a credential: TLS
// unless `tls.plaintext` allows plaintext here. Recorded when refused.
std::optional<Refusal> check_transport(const GatewayContext& context, SessionRecorder& recorder,
                                       const Caller& caller, std::string_view claimed_subject,
                                       std::string_view connection);

struct Admitted {
  identity::Identity identity;
  policy::Grant grant;
};

// Authenticates the credential for `claimed_subject`, selects the grant for `connection`
// (approved just-in-time access included) and checks that the journal can be written: the
// caller is let in, or told why not (recorded and logged; the credential never is).
std::variant<Admitted, Refusal> admit(const GatewayContext& context, SessionRecorder& recorder,
                                      const Caller& caller, const Secret& credential,
                                      std::string_view claimed_subject,
                                      std::string_view connection);

// The same for an identity proven without a credential the authenticator reads (an SSH
// certificate the gateway issued): its grant for `connection` and the journal's health.
std::variant<Admitted, Refusal> admit_identity(const GatewayContext& context,
                                               SessionRecorder& recorder, const Caller& caller,
                                               identity::Identity identity,
                                               std::string_view connection);

// How select_grant learns of approved just-in-time access (nothing without reviews).
policy::AccessRequestCheck access_request_check(const GatewayContext& context,
                                                const identity::Identity& who,
                                                std::string_view connection);

}  // namespace portcullis::gateway
