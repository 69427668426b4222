// The gateway's SSH connection to a target host: TCP with Asio, then libssh's handshake and
// public-key login in non-blocking mode, each step retried when the socket is ready.
#include "proto/ssh/target_connection.h"

#include <fmt/format.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "net/stream.h"

namespace portcullis::proto::ssh {
namespace asio = boost::asio;
using net::use_nothrow;
using tcp = asio::ip::tcp;

namespace {

// The host key algorithms that make a server present a key of the pinned type: a host has
// several keys, and would otherwise show the one the client prefers.
std::string_view algorithms_for(std::string_view key_type) {
  if (key_type == "ssh-rsa") return "rsa-sha2-512,rsa-sha2-256,ssh-rsa";
  return key_type;
}

// Waits until libssh can go on: the socket readable, or writable when it has bytes to send.
asio::awaitable<bool> wait_ready(ssh_session session, asio::posix::stream_descriptor& waiter) {
  const bool write = (ssh_get_poll_flags(session) & SSH_WRITE_PENDING) != 0;
  auto [ec] = co_await waiter.async_wait(write ? asio::posix::stream_descriptor::wait_write
                                               : asio::posix::stream_descriptor::wait_read,
                                         use_nothrow);
  co_return !ec;
}

}  // namespace

bool host_key_matches(ssh_key presented, std::string_view pinned_line) {
  char* base64 = nullptr;
  if (ssh_pki_export_pubkey_base64(presented, &base64) != SSH_OK) return false;
  LibsshString owned(base64);
  const char* type = ssh_key_type_to_char(ssh_key_type(presented));
  if (!type) return false;
  return pinned_line == fmt::format("{} {}", type, base64);
}

asio::awaitable<Result<std::unique_ptr<TargetConnection>>> TargetConnection::open(
    const config::ConnectionConfig& connection, const config::CredentialProfile& credentials,
    std::chrono::steady_clock::duration timeout) {
  auto executor = co_await asio::this_coro::executor;
  const auto& address = connection.target.address;
  auto fail = [&](std::string_view why) -> Result<std::unique_ptr<TargetConnection>> {
    return make_error(
        fmt::format("cannot reach host of connection \"{}\": {}", connection.name, why));
  };

  // One deadline for the whole set-up: on expiry the socket closes, failing the pending wait.
  tcp::socket socket(executor);
  auto target = std::make_unique<TargetConnection>();
  asio::steady_timer deadline(executor);
  deadline.expires_after(timeout);
  bool expired = false;
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (ec) return;
    expired = true;
    boost::system::error_code ignored;
    socket.close(ignored);
    if (target->waiter_) target->waiter_->close(ignored);
  });

  tcp::resolver resolver(executor);
  auto [resolve_ec, endpoints] =
      co_await resolver.async_resolve(address.host, std::to_string(address.port), use_nothrow);
  if (resolve_ec) co_return fail(resolve_ec.message());
  auto [connect_ec, endpoint] = co_await asio::async_connect(socket, endpoints, use_nothrow);
  if (connect_ec) co_return fail(expired ? "timed out" : connect_ec.message());
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);

  // libssh owns the socket from here; Asio waits on a duplicate.
  const int duplicate = ::dup(socket.native_handle());
  if (duplicate < 0) co_return fail("out of file descriptors");
  target->waiter_ = std::make_unique<asio::posix::stream_descriptor>(executor, duplicate);
  target->session_.reset(ssh_new());
  ssh_session session = target->session_.get();
  if (!session) co_return fail("out of memory");
  socket_t fd = socket.release();
  const int port = address.port;
  const int no = 0;
  const std::string user = credentials.user;
  const std::string host = address.host;
  const std::string known_hosts = connection.host_key.known_hosts_file.string();
  ssh_options_set(session, SSH_OPTIONS_FD, &fd);
  ssh_options_set(session, SSH_OPTIONS_HOST, host.c_str());
  ssh_options_set(session, SSH_OPTIONS_PORT, &port);
  ssh_options_set(session, SSH_OPTIONS_USER, user.c_str());
  // Nothing of the gateway account's own ssh set-up applies: no config files, no agent.
  ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &no);
  if (!connection.host_key.line.empty()) {
    const std::string_view pinned = connection.host_key.line;
    const std::string algorithms(algorithms_for(pinned.substr(0, pinned.find(' '))));
    ssh_options_set(session, SSH_OPTIONS_HOSTKEYS, algorithms.c_str());
  } else {
    ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, known_hosts.c_str());
    ssh_options_set(session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
  }
  ssh_set_blocking(session, 0);

  int rc;
  while ((rc = ssh_connect(session)) == SSH_AGAIN)
    if (!co_await wait_ready(session, *target->waiter_)) break;
  if (rc != SSH_OK)
    co_return fail(expired ? "timed out during the SSH handshake" : ssh_get_error(session));

  // The host's key, before any credential is sent.
  if (!connection.host_key.line.empty()) {
    ssh_key presented = nullptr;
    if (ssh_get_server_publickey(session, &presented) != SSH_OK) co_return fail("no host key");
    KeyHandle owned(presented);
    if (!host_key_matches(presented, connection.host_key.line))
      co_return fail("the host presented a key other than the pinned host_key (refused)");
  } else if (ssh_session_is_known_server(session) != SSH_KNOWN_HOSTS_OK) {
    co_return fail(
        fmt::format("the host's key is not the one {} lists for it (refused)", known_hosts));
  }

  ssh_key private_key = nullptr;
  if (ssh_pki_import_privkey_file(credentials.key_file.c_str(), nullptr, nullptr, nullptr,
                                  &private_key) != SSH_OK)
    co_return fail(fmt::format("cannot read the private key of credential profile \"{}\" ({})",
                               credentials.name, credentials.key_file.string()));
  KeyHandle key(private_key);
  while ((rc = ssh_userauth_publickey(session, nullptr, key.get())) == SSH_AUTH_AGAIN)
    if (!co_await wait_ready(session, *target->waiter_)) break;
  if (rc != SSH_AUTH_SUCCESS)
    co_return fail(expired ? "timed out logging in"
                           : fmt::format("the host refused the gateway's key for user \"{}\"; "
                                         "ask an operator to check the connection's credentials",
                                         user));
  deadline.cancel();
  co_return target;
}

}  // namespace portcullis::proto::ssh
