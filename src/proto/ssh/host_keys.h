// HostKeys: what the SSH listener presents and accepts with, shared by its sessions — the
// gateway's host key (created on first start, kept across restarts so that clients' known_hosts
// entries stay valid) and libssh's listener settings built from it.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "common/result.h"
#include "proto/ssh/libssh_handles.h"

namespace portcullis::proto::ssh {

class HostKeys {
 public:
  // Loads the host key of `file`, creating it (ed25519, mode 0600) when missing.
  static Result<std::shared_ptr<HostKeys>> load(const std::filesystem::path& file);

  // Hands an accepted connection's socket to `session` (which then owns it) and prepares the
  // server side of the handshake. Thread-safe.
  Result<void> accept(ssh_session session, int fd);

  // "ssh-ed25519 BASE64": the line a client's known_hosts holds for the gateway.
  const std::string& public_key_line() const { return public_key_line_; }

 private:
  std::mutex mutex_;  // libssh's bind is not safe to share between threads
  BindHandle bind_;
  std::string public_key_line_;
};

}  // namespace portcullis::proto::ssh
