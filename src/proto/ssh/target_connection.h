// TargetConnection: the gateway's own SSH connection to a host, logged in with the credential
// profile's private key (the caller never sees it). The host must present the key the
// connection pins (`host_key`, or an entry of `known_hosts_file`); any other key is refused
// before anything is sent.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <memory>

#include "common/result.h"
#include "config/config.h"
#include "proto/ssh/libssh_handles.h"

namespace portcullis::proto::ssh {

class TargetConnection {
 public:
  // Connects to `connection`'s address and logs in as `credentials.user` within `timeout`.
  // The error says what failed, fit for the caller (never the key's contents).
  static boost::asio::awaitable<Result<std::unique_ptr<TargetConnection>>> open(
      const config::ConnectionConfig& connection, const config::CredentialProfile& credentials,
      std::chrono::steady_clock::duration timeout);

  ssh_session session() const { return session_.get(); }
  // A duplicate of the socket for Asio to wait on; libssh owns the original.
  boost::asio::posix::stream_descriptor& waiter() { return *waiter_; }

 private:
  SessionHandle session_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> waiter_;
};

// Whether the key a host presented is the one pinned: "TYPE BASE64" as in `host_key`.
bool host_key_matches(ssh_key presented, std::string_view pinned_line);

}  // namespace portcullis::proto::ssh
