// A session's start: the startup packet (SSL and GSS requests, cancel requests, protocol
// versions), the caller's token read as a password, admission by the gateway core, and the
// backend opened with the gateway's credentials.
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "gateway/admission.h"
#include "proto/postgres/decoder.h"
#include "proto/postgres/refusal_codes.h"
#include "proto/postgres/session.h"
#include "proto/postgres/session_support.h"
#include "proto/postgres/startup_parameters.h"

namespace portcullis::proto::postgres {
using namespace asio::experimental::awaitable_operators;
using net::use_nothrow;

asio::awaitable<bool> Session::handshake() {
  const auto& limits = gate_.context().config->limits;
  std::string buffer;
  char chunk[4096];
  for (;;) {
    StartupPacket packet;
    std::size_t consumed = 0;
    std::string error;
    const auto status =
        decode_startup_packet(buffer, limits.max_startup_packet, packet, consumed, error);
    if (status == DecodeStatus::invalid) {
      spdlog::info("event=bad_startup session={} client={} error={:?}", id_, client_address_,
                   error);
      co_await fail(kSqlProtocolViolation, "portcullis: " + error);
      co_return false;
    }
    if (status == DecodeStatus::need_more) {
      auto [ec, n] = co_await client_->read_some(asio::buffer(chunk));
      if (ec) co_return false;  // gone before saying anything useful: nothing to report
      bytes_from_client_ += n;
      buffer.append(chunk, n);
      continue;
    }
    // The packet's views point into `buffer`: keep it whole while they are in use, and
    // carry the bytes after it separately.
    std::string rest = buffer.substr(consumed);

    if (std::holds_alternative<SslRequest>(packet)) {
      buffer = std::move(rest);
      const bool offer = gate_.context().client_tls && !client_->is_tls();
      auto [ec, n] = co_await client_->write(asio::buffer(offer ? "S" : "N", 1));
      if (ec) co_return false;
      if (offer) {
        // Bytes sent after SSLRequest but before the handshake would be read as if they had
        // been encrypted (CVE-2021-23214): refuse them.
        if (!buffer.empty()) {
          co_await fail(kSqlProtocolViolation, "portcullis: unencrypted data after SSLRequest");
          co_return false;
        }
        auto tls = co_await client_->accept_tls(*gate_.context().client_tls);
        if (!tls) {
          spdlog::info("event=tls_failed session={} client={} error={:?}", id_, client_address_,
                       tls.error().message);
          co_return false;
        }
      }
      continue;
    }
    if (std::holds_alternative<GssEncRequest>(packet)) {
      buffer = std::move(rest);
      // No GSSAPI encryption: 'N' makes libpq go on with SSL or plain startup.
      auto [ec, n] = co_await client_->write(asio::buffer("N", 1));
      if (ec) co_return false;
      continue;
    }
    if (const auto* cancel = std::get_if<CancelRequest>(&packet)) {
      co_await handle_cancel(*cancel);
      co_return false;
    }
    auto& startup = std::get<StartupMessage>(packet);
    if ((startup.protocol_version >> 16) != 3) {
      co_await fail(kSqlFeatureNotSupported,
                    fmt::format("portcullis: unsupported frontend protocol {}.{}: the gateway "
                                "speaks 3.0",
                                startup.protocol_version >> 16, startup.protocol_version & 0xffff));
      co_return false;
    }
    if ((startup.protocol_version & 0xffff) != 0) {
      // A newer 3.x client: tell it the gateway speaks 3.0 and no protocol extensions, as
      // PostgreSQL does with NegotiateProtocolVersion.
      std::string out;
      MessageWriter writer(out);
      writer.begin(backend::kNegotiateProtocolVersion)
          .int32(static_cast<int32_t>(kProtocolVersion3));
      std::vector<std::string_view> extensions;
      for (const auto& [name, value] : startup.parameters)
        if (name.starts_with("_pq_.")) extensions.push_back(name);
      writer.int32(static_cast<int32_t>(extensions.size()));
      for (auto name : extensions) writer.cstring(name);
      writer.finish();
      co_await write_to_client(std::move(out));
    }
    co_return co_await authenticate_and_connect(startup, std::move(rest));
  }
}

asio::awaitable<bool> Session::authenticate_and_connect(const StartupMessage& startup,
                                                        std::string buffer) {
  const auto user = startup.parameter("user");
  // libpq's default database name is the user name, as PostgreSQL's.
  const std::string connection_name(
      startup.parameter("database").value_or(user.value_or(std::string_view())));
  if (auto refused = gateway::check_transport(gate_.context(), gate_.recorder(), caller(),
                                              user.value_or(std::string_view()), connection_name)) {
    co_await fail(sqlstate_of(refused->reason),
                  "portcullis: " + refused->message + "; connect with sslmode=require or stronger");
    co_return false;
  }
  if (!user || user->empty()) {
    co_await fail(kSqlInvalidAuthorization, "portcullis: no user name in the startup packet");
    co_return false;
  }
  const std::string subject(*user);

  // Ask for the token as a cleartext password; TLS (or loopback) protects it.
  {
    std::string out;
    append_authentication(out, AuthCode::cleartext_password);
    auto [ec, n] = co_await client_->write(asio::buffer(out));
    if (ec) co_return false;
  }
  Message message;
  for (;;) {
    std::size_t consumed = 0;
    std::string error;
    const auto status = decode_message(buffer, kMaxPasswordMessage, message, consumed, error);
    if (status == DecodeStatus::ready) break;
    if (status == DecodeStatus::invalid) {
      co_await fail(kSqlProtocolViolation, "portcullis: " + error);
      co_return false;
    }
    char chunk[4096];
    auto [ec, n] = co_await client_->read_some(asio::buffer(chunk));
    // psql closes here when it has no password yet, to prompt for one and reconnect.
    if (ec) co_return false;
    bytes_from_client_ += n;
    buffer.append(chunk, n);
  }
  if (message.type != frontend::kPassword) {
    co_await fail(kSqlProtocolViolation, "portcullis: expected a password message");
    co_return false;
  }
  auto password = parse_password(message.body);
  if (!password) {
    co_await fail(kSqlProtocolViolation, "portcullis: " + password.error().message);
    co_return false;
  }
  const Secret credential{std::string(*password)};
  OPENSSL_cleanse(buffer.data(), buffer.size());

  auto admitted = gateway::admit(gate_.context(), gate_.recorder(), caller(), credential, subject,
                                 connection_name);
  if (auto* refused = std::get_if<gateway::Refusal>(&admitted)) {
    co_await fail(*refused);
    co_return false;
  }
  auto& [identity, grant] = std::get<gateway::Admitted>(admitted);
  auto parameters = backend_startup_parameters(startup, grant.credentials->user,
                                               grant.connection->target.database);
  if (!parameters) {
    gate_.recorder().connect_refused(identity.subject, connection_name, parameters.error().message,
                                     identity.credential);
    co_await fail(kSqlInsufficientPrivilege, "portcullis: " + parameters.error().message);
    co_return false;
  }
  // A read-only grant is enforced twice: by the decision point, and by the backend itself.
  // The caller cannot lift this setting: startup parameters and statements that would are
  // refused.
  if (policy::is_read_only(grant)) parameters->emplace_back("default_transaction_read_only", "on");

  const BackendTarget target = backend_target(gate_.context(), grant);
  auto outcome = co_await connect_backend(target, *parameters);
  if (auto* failure = std::get_if<BackendFailure>(&outcome)) {
    spdlog::warn("event=backend_failed session={} subject={:?} connection={:?} reason={:?}", id_,
                 identity.subject, connection_name, failure->message);
    gate_.recorder().connect_refused(identity.subject, connection_name, failure->message,
                                     identity.credential);
    co_await fail(failure->sqlstate, failure->message);
    co_return false;
  }
  auto& backend = std::get<BackendConnection>(outcome);
  backend_ = std::move(backend.stream);
  backend_pending_ = std::move(backend.pending);
  transaction_status_ = backend.transaction_status;
  // Asked for by a read-only grant (above) and confirmed by the backend itself.
  backend_read_only_ = policy::is_read_only(grant) && backend.read_only;
  if (terminated_) co_return false;

  std::weak_ptr<Session> weak = shared_from_this();
  // Called from another session's thread (its CancelRequest): posted to ours.
  gateway_key_ = cancels_->add(CancelTarget{grant.connection->target.address.host,
                                            grant.connection->target.address.port, backend.key,
                                            [weak, executor = client_->get_executor()] {
                                              asio::post(executor, [weak] {
                                                if (auto self = weak.lock())
                                                  self->on_cancel_request();
                                              });
                                            }});
  gate_.open(weak, std::move(identity), std::move(grant), client_address_,
             [this](const gateway::Refusal& why) {
               terminate(sqlstate_of(why.reason), "portcullis: " + why.message);
             });

  std::string out;
  append_authentication(out, AuthCode::ok);
  out.append(backend.startup_messages);
  append_backend_key_data(out, *gateway_key_);
  append_ready_for_query(out, transaction_status_);
  co_await write_to_client(std::move(out));

  const auto& who = gate_.identity();
  const auto& granted = gate_.grant();
  spdlog::info(
      "event=session_start session={} client={} subject={:?} kind={} auth={} connection={:?} "
      "access_rule={} backend_user={:?} client_tls={} backend_tls={}",
      id_, client_address_, who.subject, identity::to_string(who.kind),
      identity::to_string(who.method), granted.connection->name, granted.rule,
      granted.credentials->user, client_->tls_version(), backend_->tls_version());
  co_return true;
}

}  // namespace portcullis::proto::postgres
