// SessionChannel: one session channel of an SSH client and, once its command is allowed, the
// channel the gateway opened for it on the target host. What libssh's callbacks note (data,
// end of file, exit status) waits here until the session's pump moves it on.
#pragma once

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "masking/output_masking.h"
#include "proto/ssh/scp_stream.h"
#include "proto/ssh/sftp_relay.h"
#include "proto/ssh/shell_recording.h"
#include "proto/ssh/typed_line.h"

namespace portcullis::proto::ssh {

class Session;

// The exit status of a command the gateway refused (an exec, an sftp or scp request), as a
// shell reports a command it cannot run.
inline constexpr int kRefusedStatus = 126;

struct SessionChannel {
  enum class State {
    waiting,    // opened; no exec request yet
    deciding,   // the command is being decided (or held for a review)
    opening,    // allowed: opening the channel on the target
    starting,   // asking the target to run the command
    running,    // bytes flow both ways
    finishing,  // the target's side closed: the last output, the exit status, the close
    closed,
  };

  // Bytes held per direction before the gateway stops reading that side (flow control).
  static constexpr std::size_t kMaxQueued = 256 * 1024;

  Session* session = nullptr;
  ssh_channel client = nullptr;
  ssh_channel target = nullptr;
  ssh_channel_callbacks_struct client_callbacks{};
  ssh_channel_callbacks_struct target_callbacks{};
  State state = State::waiting;

  std::string command;  // the exec request's text, byte for byte
  // An interactive shell (a shell request rather than exec): each line typed is decided when
  // Enter is pressed, before the shell sees the Enter, and the masked output is recorded.
  bool shell = false;
  bool shell_running = false;  // started: the session's turn is this shell's until it ends
  TypedLine typed;
  bool line_deciding = false;  // the line ended by the Enter at the front of to_target
  // The Enter came before any output since the line began: the decision waits a moment for the
  // echo, which tells a typed command from input the terminal does not show (a password).
  std::optional<std::chrono::steady_clock::time_point> echo_deadline;
  uint64_t output_since_line = 0;
  std::string to_shell;  // keys cleared to go to the shell, not yet written
  std::unique_ptr<ShellRecording> recording;
  std::chrono::steady_clock::time_point last_output;
  bool pty = false;
  bool pty_requested = false;  // on the target
  std::string term;
  int columns = 80, rows = 24;
  uint64_t batch = 0;
  std::chrono::steady_clock::time_point started;

  // Agent forwarding: the client asked for it (before its command), the command's decision
  // allowed it, and the host was asked for it.
  bool agent_requested = false;
  bool agent_forwarding = false;
  bool agent_requested_on_target = false;

  std::string to_target;  // the client's stdin, not yet written to the target
  // libssh holds bytes a callback could not take (a queue was full): read them when there is
  // room again. No other data arrives meanwhile: the peer's window is closed.
  bool client_backlog = false;
  bool target_backlog[2] = {false, false};  // stdout, stderr
  bool client_eof = false;
  bool target_eof_sent = false;
  std::optional<masking::OutputMasking> out_masking, err_masking;
  std::string to_client_out, to_client_err;  // masked, not yet written to the client
  bool target_eof = false;
  bool target_closed = false;
  std::optional<int> exit_status;
  std::string exit_signal;
  uint64_t output_bytes = 0;  // from the target, before masking
  bool client_closed = false;
  bool recorded = false;  // its outcome is in the journal

  // A subsystem request ("sftp") instead of a command. Its requests pass through the relay,
  // each one that names files decided and journaled on its own (sftp_channel.cc).
  std::string subsystem;
  std::unique_ptr<sftp::SftpRelay> sftp;

  // Legacy scp: an exec request shell::read_scp_request recognises is a file transfer, each
  // file and directory its stream announces decided and journaled on its own (scp_channel.cc).
  std::unique_ptr<scp::ScpStream> scp;
  std::string scp_from_host;  // the host's stdout, not yet taken by the stream

  // Either transfer (transfer_decisions.cc): the host's sftp-server or scp runs (the channel
  // holds the session's turn), a file operation waits for a review or the journal, and the
  // journal events of operations allowed and not yet answered.
  bool transfer_running = false;
  bool transfer_deciding = false;
  std::size_t transfer_unanswered = 0;
};

}  // namespace portcullis::proto::ssh
