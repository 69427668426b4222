// SshToolSession: the exec tool's way to a host. It is an SSH client (libssh) of the
// gateway's own SSH front end, connected over a socketpair inside the process, so a command
// goes through exactly the code `ssh HOST COMMAND` goes through (the caller's credential as
// the password, the grant, the shell analysis and decision, review holds, the journal,
// masking of the output) and this side reads the already-masked output and the exit status.
//
// One per MCP session and connection, kept between calls (each call is a channel of it).
// libssh's client calls block: they run on a thread of the session's own, never on the MCP
// endpoint's thread, which only awaits their results.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "common/secret.h"
#include "proto/mcp/tool_session.h"

namespace portcullis::proto::mcp {

struct ExecRequest {
  std::string command;
  std::chrono::seconds wait{0};      // for a review's decision
  std::chrono::seconds timeout{60};  // for the command, once it runs
};

struct ExecAnswer {
  std::string stdout_text;  // as the front end sent it (masked)
  std::string stderr_text;
  std::optional<int> exit_status;  // none when the command ended without one (a signal)
  // More output came than the limit given to run(): the channel was closed there, which
  // ends the command on the host (so none runs on without end); no exit status then.
  bool truncated = false;
  // The command still ran when its timeout was over: the channel was closed there too, and
  // the output is what came until then.
  bool timed_out = false;
  // Refused by the gateway (a rule, a reviewer): the message it gave; the command never ran.
  std::string refusal;
  // Held for this review and not run: the wait ran out, the review stays pending.
  std::string review;
};

class SshToolSession : public std::enable_shared_from_this<SshToolSession> {
 public:
  // Connects to the front end and logs in to `connection` with `credential` as the password.
  static boost::asio::awaitable<std::variant<std::shared_ptr<SshToolSession>, ToolError>> open(
      boost::asio::any_io_executor executor, Adopt adopt, std::string connection, Secret credential,
      std::string client_address, HoldProbe held);

  ~SshToolSession();

  // Runs one command on a channel of its own; calls made at once run one after the other. A
  // ToolError means the session is over (ended() is then true).
  boost::asio::awaitable<std::variant<ExecAnswer, ToolError>> run(ExecRequest request,
                                                                  std::size_t max_bytes);
  bool ended() const;
  void close();

  struct State;  // the libssh session and the thread it is used on, defined in the .cc
  explicit SshToolSession(std::unique_ptr<State> state);

 private:
  std::unique_ptr<State> state_;
};

}  // namespace portcullis::proto::mcp
