// PathQueries: the gateway's own sftp stream to a host, on which it asks where paths lead
// (SSH_FXP_REALPATH) before it decides a file operation on them, so that a `paths` guardrail
// sees `/home/u/.ssh/authorized_keys` where the client wrote `link/authorized_keys`. The
// host's sftp-server resolves every link on the way, and a last component that does not exist
// yet is kept as it is (OpenSSH's sftp_realpath), which is what a file about to be created
// needs. Pure: no I/O, no policy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "proto/ssh/sftp_packets.h"

namespace portcullis::proto::ssh::sftp {

// What to ask the host for a path an operation names: where `ask` leads, with `append`
// (a last component) added to the answer. An operation on a link itself (remove, lstat,
// rename) asks for the directory it is in: its last component is not followed.
struct PathQuestion {
  std::string ask;
  std::string append;
};
PathQuestion question_for(std::string_view path, bool follow_last_link);
// The answer to `question` once the host resolved `resolved`.
std::string answer_for(const PathQuestion& question, std::string_view resolved);

class PathQueries {
 public:
  // Questions asked and not yet answered; beyond, ask() is refused. A file operation names
  // at most two paths, and one is decided at a time.
  static constexpr std::size_t kMaxOpen = 64;

  PathQueries();  // the INIT is the first thing for the host

  // Asks where `path` leads; the answer comes back under the id returned. Empty when too many
  // questions are open.
  std::optional<uint32_t> ask(std::string_view path);
  // Bytes for the host, in order; the session writes them and erases what it wrote.
  std::string& to_host() { return to_host_; }
  // The host's bytes. False when the stream cannot be followed (error()).
  bool from_host(std::string_view bytes);
  // The answer to question `id` once it came, taken.
  std::optional<RealpathAnswer> take(uint32_t id);

  const std::string& error() const { return error_; }

 private:
  bool fail(std::string why);

  bool versioned_ = false;  // the host's VERSION came
  uint32_t next_id_ = 1;
  std::map<uint32_t, std::optional<RealpathAnswer>> open_;
  std::string to_host_;
  std::string incoming_;
  std::string error_;
};

}  // namespace portcullis::proto::ssh::sftp
