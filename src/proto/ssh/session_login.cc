// Login: who the caller is (an SSH user certificate signed by the gateway's CA, or an API key
// typed as a password), which connection they asked for (the SSH user name), whether a rule
// grants it; then the gateway's own connection to that host.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "identity/ssh_keys.h"
#include "proto/ssh/session.h"
#include "proto/ssh/session_channel.h"

namespace portcullis::proto::ssh {
namespace asio = boost::asio;

namespace {

constexpr std::string_view kKinds[] = {"ssh"};
// Login attempts one connection may make (OpenSSH's MaxAuthTries is 6; a client offering a
// certificate asks about it before it signs): then it is disconnected.
constexpr int kMaxLoginAttempts = 12;

// The certificate blob of a key libssh read from a client, if the key is a certificate.
std::optional<std::string> certificate_blob(ssh_key key) {
  switch (ssh_key_type(key)) {
    case SSH_KEYTYPE_ED25519_CERT01:
    case SSH_KEYTYPE_RSA_CERT01:
    case SSH_KEYTYPE_ECDSA_P256_CERT01:
    case SSH_KEYTYPE_ECDSA_P384_CERT01:
    case SSH_KEYTYPE_ECDSA_P521_CERT01:
      break;
    default:
      return std::nullopt;
  }
  char* base64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &base64) != SSH_OK) return std::nullopt;
  LibsshString owned(base64);
  const char* type = ssh_key_type_to_char(ssh_key_type(key));
  if (!type) return std::nullopt;
  auto parsed = identity::ssh::parse_public_key_line(fmt::format("{} {}", type, base64));
  if (!parsed) return std::nullopt;
  return std::move(parsed->blob);
}

}  // namespace

gateway::Caller Session::caller() const {
  return {.protocol = "ssh",
          .kinds = kKinds,
          .session = id_,
          .client_address = client_address_,
          .encrypted = true,  // SSH is its own transport encryption
          .loopback_listener = loopback_listener_};
}

bool Session::too_many_attempts() {
  if (++login_attempts_ <= kMaxLoginAttempts) return false;
  spdlog::info("event=ssh_login_attempts_exceeded session={} client={}", id_, client_address_);
  client_gone_ = true;
  kick();
  return true;
}

int Session::authenticate_certificate(const char* user, ssh_key key, char signature_state) {
  if (logged_in_ || !user || too_many_attempts()) return SSH_AUTH_DENIED;
  const auto& context = gate_.context();
  auto blob = certificate_blob(key);
  // Plain keys are not accepted: a key means something only once the CA certified it.
  if (!blob || !context.ssh_ca) return SSH_AUTH_DENIED;
  auto identity = context.ssh_ca->identity_of(*blob, std::chrono::system_clock::now());
  if (signature_state == SSH_PUBLICKEY_STATE_NONE) {
    // The client asks whether this key would do; it proves it holds the key next.
    return identity ? SSH_AUTH_SUCCESS : SSH_AUTH_DENIED;
  }
  if (signature_state != SSH_PUBLICKEY_STATE_VALID) return SSH_AUTH_DENIED;
  const std::string_view connection = user;
  if (!identity) {
    refuse_login({.reason = gateway::RefusalReason::authentication_failed,
                  .rule = {},
                  .message = "authentication failed: " + identity.error().message});
    gate_.recorder().connect_refused({}, connection,
                                     "authentication failed: " + identity.error().message);
    return SSH_AUTH_DENIED;
  }
  if (auto valid = context.authenticator->check_revocation(*identity); !valid) {
    refuse_login({.reason = gateway::RefusalReason::authentication_failed,
                  .rule = {},
                  .message = "authentication failed: " + valid.error().message});
    gate_.recorder().connect_refused(identity->subject, connection,
                                     "authentication failed: " + valid.error().message);
    return SSH_AUTH_DENIED;
  }
  auto outcome = gateway::admit_identity(context, gate_.recorder(), caller(), std::move(*identity),
                                         connection);
  if (auto* refusal = std::get_if<gateway::Refusal>(&outcome)) {
    refuse_login(*refusal);
    return SSH_AUTH_DENIED;
  }
  admitted(std::move(std::get<gateway::Admitted>(outcome)), connection);
  return SSH_AUTH_SUCCESS;
}

int Session::authenticate_password(const char* user, const char* password) {
  if (logged_in_ || !user || !password || too_many_attempts()) return SSH_AUTH_DENIED;
  // OpenSSH cuts passwords at 1023 bytes: no token fits, an API key does.
  const std::string_view connection = user;
  auto outcome = gateway::admit(gate_.context(), gate_.recorder(), caller(), Secret(password),
                                /*claimed_subject=*/{}, connection);
  if (auto* refusal = std::get_if<gateway::Refusal>(&outcome)) {
    refuse_login(*refusal);
    return SSH_AUTH_DENIED;
  }
  admitted(std::move(std::get<gateway::Admitted>(outcome)), connection);
  return SSH_AUTH_SUCCESS;
}

void Session::refuse_login(const gateway::Refusal& refusal) {
  // OpenSSH prints a userauth banner on stderr: the caller learns why, not only "Permission
  // denied".
  const std::string text = fmt::format("portcullis: {}\n", refusal.message);
  ssh_string banner = ssh_string_from_char(text.c_str());
  if (banner) {
    ssh_send_issue_banner(client_.get(), banner);
    ssh_string_free(banner);
  }
}

void Session::admitted(gateway::Admitted admitted, std::string_view connection) {
  logged_in_ = true;
  if (handshake_listener_) {
    handshake_listener_();
    handshake_listener_ = nullptr;
  }
  connection_ = std::string(connection);
  admitted_ = std::move(admitted);
  spdlog::info("event=ssh_login session={} client={} subject={:?} connection={:?}", id_,
               client_address_, admitted_->identity.subject, connection_);
  asio::co_spawn(
      kick_.get_executor(),
      [self = shared_from_this(), connection = connection_]() -> asio::awaitable<void> {
        co_await self->open_target(connection);
      },
      asio::detached);
}

asio::awaitable<void> Session::open_target(std::string connection) {
  const auto& grant = admitted_->grant;
  auto target = co_await TargetConnection::open(*grant.connection, *grant.credentials,
                                                gate_.context().config->limits.handshake_timeout);
  if (ending_) co_return;
  if (!target) {
    target_failed_ = true;
    target_error_ = target.error().message;
    spdlog::warn("event=ssh_target_unavailable session={} connection={:?} reason={:?}", id_,
                 connection, target_error_);
    kick();
    co_return;
  }
  target_ = std::move(*target);
  if (ssh_event_add_session(event_.get(), target_->session()) != SSH_OK) {
    target_failed_ = true;
    target_error_ = "cannot watch the connection to the host";
    kick();
    co_return;
  }
  std::weak_ptr<Session> weak = shared_from_this();
  gate_.open(weak, admitted_->identity, admitted_->grant, client_address_,
             [weak](const gateway::Refusal& why) {
               if (auto session = weak.lock()) session->end(why);
             });
  kick();
}

}  // namespace portcullis::proto::ssh
