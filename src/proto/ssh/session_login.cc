// Login: who the caller is (an SSH user certificate signed by the gateway's CA, a public key
// registered to a subject, or an API key typed as a password), which connection they asked for (the
// SSH user name), whether a rule grants it; then the gateway's own connection to that host.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "identity/ssh_keys.h"
#include "identity/ssh_wire.h"
#include "proto/ssh/session.h"
#include "proto/ssh/session_channel.h"

namespace portcullis::proto::ssh {
namespace asio = boost::asio;

namespace {

constexpr std::string_view kKinds[] = {"ssh"};
// Login attempts one connection may make (OpenSSH's MaxAuthTries is 6; a client offering a
// certificate asks about it before it signs): then it is disconnected.
constexpr int kMaxLoginAttempts = 12;

bool is_certificate(ssh_key key) {
  switch (ssh_key_type(key)) {
    case SSH_KEYTYPE_ED25519_CERT01:
    case SSH_KEYTYPE_RSA_CERT01:
    case SSH_KEYTYPE_ECDSA_P256_CERT01:
    case SSH_KEYTYPE_ECDSA_P384_CERT01:
    case SSH_KEYTYPE_ECDSA_P521_CERT01:
      return true;
    default:
      return false;
  }
}

// The SSH wire blob of a key libssh read from a client: a certificate's whole blob for a
// certificate, the public key's for a plain key.
std::optional<std::string> key_blob(ssh_key key) {
  char* base64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &base64) != SSH_OK) return std::nullopt;
  LibsshString owned(base64);
  auto blob = identity::ssh::base64_decode(base64);
  if (!blob || blob->empty()) return std::nullopt;
  return blob;
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

int Session::authenticate_public_key(const char* user, ssh_key key, char signature_state) {
  if (logged_in_ || !user || too_many_attempts()) return SSH_AUTH_DENIED;
  const auto& context = gate_.context();
  const auto now = std::chrono::system_clock::now();
  const bool certificate = is_certificate(key);
  auto blob = key_blob(key);
  if (!blob) return SSH_AUTH_DENIED;
  std::string registered_key;  // a plain key's fingerprint, for the log
  Result<identity::Identity> identity = make_error("no SSH user certificate authority");
  if (certificate) {
    if (!context.ssh_ca) return SSH_AUTH_DENIED;
    identity = context.ssh_ca->identity_of(*blob, now);
    // The client asks whether this key would do; it proves it holds the key next.
    if (signature_state == SSH_PUBLICKEY_STATE_NONE)
      return identity ? SSH_AUTH_SUCCESS : SSH_AUTH_DENIED;
  } else {
    // A plain key means something only when it is registered to a subject (#17); any other is
    // refused without a word, as before there were registered keys.
    identity = context.authenticator->identity_of_ssh_key(*blob, now);
    if (!identity && identity.error().code == "not_found") return SSH_AUTH_DENIED;
    // Registered: asked to sign even when expired or its subject revoked, so that the holder,
    // once it proved it holds the key, learns why it is refused.
    if (signature_state == SSH_PUBLICKEY_STATE_NONE) return SSH_AUTH_SUCCESS;
    registered_key = identity::ssh::fingerprint(*blob);
  }
  // Only a request whose signature libssh verified logs in.
  if (signature_state != SSH_PUBLICKEY_STATE_VALID) return SSH_AUTH_DENIED;
  const std::string_view connection = user;
  const auto refuse = [&](std::string_view subject, const std::string& reason,
                          std::string_view credential = {}) {
    spdlog::info(
        "event=auth_failed session={} client={} user={:?} connection={:?} key={:?} reason={:?}",
        id_, client_address_, subject, connection, registered_key, reason);
    refuse_login({.reason = gateway::RefusalReason::authentication_failed,
                  .rule = {},
                  .message = "authentication failed: " + reason});
    gate_.recorder().connect_refused(subject, connection, "authentication failed: " + reason,
                                     credential);
    return SSH_AUTH_DENIED;
  };
  if (!identity) return refuse({}, identity.error().message);
  if (auto valid = context.authenticator->check_revocation(*identity); !valid)
    return refuse(identity->subject, valid.error().message, identity->credential);
  auto outcome = gateway::admit_identity(context, gate_.recorder(), caller(), std::move(*identity),
                                         connection);
  if (auto* refusal = std::get_if<gateway::Refusal>(&outcome)) {
    refuse_login(*refusal);
    return SSH_AUTH_DENIED;
  }
  login_key_ = std::move(registered_key);
  admitted(std::move(std::get<gateway::Admitted>(outcome)), connection);
  return SSH_AUTH_SUCCESS;
}

int Session::authenticate_password(const char* user, const char* password) {
  if (logged_in_ || !user || !password || too_many_attempts()) return SSH_AUTH_DENIED;
  // OpenSSH cuts passwords at 1023 bytes: from `ssh` no token fits, an API key does. The MCP
  // endpoint's libssh client has no such limit and sends the agent's token whole.
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
  spdlog::info(
      "event=ssh_login session={} client={} subject={:?} connection={:?} auth={} "
      "key={:?} key_id={:?}",
      id_, client_address_, admitted_->identity.subject, connection_,
      identity::to_string(admitted_->identity.method), login_key_,
      login_key_.empty() ? std::string() : admitted_->identity.token_id);
  // The session is open from here (live, killable, recorded), while the host connection
  // opens: what the client asks for next, such as a port forward, is decided and recorded at
  // once, as libssh wants its answer before its callback returns.
  std::weak_ptr<Session> weak = shared_from_this();
  gate_.open(weak, admitted_->identity, admitted_->grant, client_address_,
             [weak](const gateway::Refusal& why) {
               if (auto session = weak.lock()) session->end(why);
             });
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
  // The host opens channels to the caller's agent when a command was allowed it.
  target_callbacks_.userdata = this;
  target_callbacks_.channel_open_request_auth_agent_function = [](ssh_session, void* self) {
    return static_cast<Session*>(self)->open_agent_forward();
  };
  ssh_callbacks_init(&target_callbacks_);
  ssh_set_callbacks(target_->session(), &target_callbacks_);
  // Connections to a port the host listens on for the client (`ssh -R`) arrive as messages.
  ssh_set_message_callback(
      target_->session(),
      [](ssh_session, ssh_message message, void* self) {
        return static_cast<Session*>(self)->on_target_message(message);
      },
      this);
  if (ssh_event_add_session(event_.get(), target_->session()) != SSH_OK) {
    target_failed_ = true;
    target_error_ = "cannot watch the connection to the host";
    kick();
    co_return;
  }
  kick();
}

}  // namespace portcullis::proto::ssh
