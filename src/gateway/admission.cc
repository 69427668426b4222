// Admission of a new session: transport, credential, grant, journal health.
#include "gateway/admission.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace portcullis::gateway {

std::optional<Refusal> check_transport(const GatewayContext& context, SessionRecorder& recorder,
                                       const Caller& caller, std::string_view claimed_subject,
                                       std::string_view connection) {
  if (caller.encrypted) return std::nullopt;
  bool allowed = caller.loopback_listener;
  if (const auto& tls = context.config->tls) {
    switch (tls->plaintext) {
      case config::PlaintextPolicy::allow:
        allowed = true;
        break;
      case config::PlaintextPolicy::never:
        allowed = false;
        break;
      case config::PlaintextPolicy::loopback:
        allowed = caller.loopback_listener;
        break;
    }
  }
  if (allowed) return std::nullopt;
  recorder.connect_refused(claimed_subject, connection, "this listener requires TLS");
  return Refusal{
      .reason = RefusalReason::tls_required, .rule = {}, .message = "this listener requires TLS"};
}

policy::AccessRequestCheck access_request_check(const GatewayContext& context,
                                                const identity::Identity& who,
                                                std::string_view connection) {
  if (!context.reviews) return {};
  return [reviews = context.reviews, subject = who.subject,
          connection = std::string(connection)](const config::AccessRuleConfig& rule)
             -> Result<std::optional<std::chrono::system_clock::time_point>> {
    return reviews->access_granted_until(subject, connection, rule.name,
                                         std::chrono::system_clock::now());
  };
}

std::variant<Admitted, Refusal> admit(const GatewayContext& context, SessionRecorder& recorder,
                                      const Caller& caller, const Secret& credential,
                                      std::string_view claimed_subject,
                                      std::string_view connection) {
  auto identity = context.authenticator->authenticate(credential, claimed_subject,
                                                      std::chrono::system_clock::now());
  if (!identity) {
    spdlog::info("event=auth_failed session={} client={} user={:?} connection={:?} reason={:?}",
                 caller.session, caller.client_address, claimed_subject, connection,
                 identity.error().message);
    recorder.connect_refused(claimed_subject, connection,
                             "authentication failed: " + identity.error().message);
    return Refusal{.reason = RefusalReason::authentication_failed,
                   .rule = {},
                   .message = "authentication failed: " + identity.error().message};
  }
  return admit_identity(context, recorder, caller, std::move(*identity), connection);
}

std::variant<Admitted, Refusal> admit_identity(const GatewayContext& context,
                                               SessionRecorder& recorder, const Caller& caller,
                                               identity::Identity identity,
                                               std::string_view connection) {
  auto grant = policy::select_grant(*context.config, identity, connection,
                                    access_request_check(context, identity, connection));
  if (grant && !caller.kinds.empty() &&
      std::find(caller.kinds.begin(), caller.kinds.end(),
                config::to_string(grant->connection->kind)) == caller.kinds.end()) {
    grant = make_error(
        fmt::format("connection \"{}\" is a {} connection: the {} front end does "
                    "not reach it",
                    connection, config::to_string(grant->connection->kind), caller.protocol));
  }
  if (!grant) {
    spdlog::info(
        "event=access_denied session={} client={} subject={:?} connection={:?} reason={:?}",
        caller.session, caller.client_address, identity.subject, connection, grant.error().message);
    recorder.connect_refused(identity.subject, connection,
                             "access denied: " + grant.error().message, identity.credential);
    return Refusal{.reason = RefusalReason::access_denied,
                   .rule = {},
                   .message = "access denied: " + grant.error().message};
  }
  // Fail closed: while the journal cannot be written nobody new gets in.
  if (!recorder.healthy()) {
    spdlog::warn(
        "event=connection_refused session={} subject={:?} reason=\"audit journal "
        "unavailable\"",
        caller.session, identity.subject);
    // Kept in memory until the journal takes writes again (audit.md, Durability).
    recorder.connect_refused(identity.subject, connection, "the audit journal cannot be written",
                             identity.credential);
    return Refusal{.reason = RefusalReason::not_ready,
                   .rule = {},
                   .message =
                       "the audit journal cannot be written; connections are refused "
                       "until it can (see the gateway's log)"};
  }
  return Admitted{.identity = std::move(identity), .grant = std::move(*grant)};
}

}  // namespace portcullis::gateway
