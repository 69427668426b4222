// Session: one SSH client connection through the gateway. The client logs in with a user
// certificate from the gateway's CA, a public key registered to a subject, or an API key typed
// as a password, names the connection as its user name, and the gateway opens its own SSH
// connection to that host with the credential profile's key. Every exec request is decided by
// the core's CommandGate before it reaches the host; its output comes back masked, its exit
// status passed on. An sftp subsystem is decided as a whole, then each of its requests that
// names files; a shell, line by line as it is typed (session_shell.cc).
//
// libssh does the protocol on both sides, in non-blocking mode: one coroutine (the pump)
// waits for either socket with Asio and lets libssh read, its callbacks only note what
// arrived, and service() then moves bytes and advances each channel. Decisions, which may
// wait for a review or the journal, run in coroutines of their own and kick the pump.
#pragma once

#include <libssh/callbacks.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "gateway/accept_loop.h"
#include "gateway/admission.h"
#include "gateway/command_gate.h"
#include "proto/ssh/host_keys.h"
#include "proto/ssh/libssh_handles.h"
#include "proto/ssh/target_connection.h"

namespace portcullis::proto::ssh {

struct SessionChannel;
struct ForwardChannel;
struct RemoteListen;
struct HostPathChannel;

class Session final : public gateway::ServedSession, public std::enable_shared_from_this<Session> {
 public:
  Session(gateway::AcceptedConnection connection, std::shared_ptr<HostKeys> host_keys);
  ~Session() override;

  boost::asio::awaitable<void> run() override;
  void shut_down() override;
  // Ends the session: every running command's client is told why, both connections close.
  void end(const gateway::Refusal& why);

 private:
  // Login (session_login.cc).
  int authenticate_public_key(const char* user, ssh_key key, char signature_state);
  int authenticate_password(const char* user, const char* password);
  void admitted(gateway::Admitted admitted, std::string_view connection);
  void refuse_login(const gateway::Refusal& refusal);
  bool too_many_attempts();
  gateway::Caller caller() const;

  // The connection to the target host, once the caller is admitted.
  boost::asio::awaitable<void> open_target(std::string connection);

  // Channels (session_channels.cc).
  ssh_channel open_channel();
  boost::asio::awaitable<void> decide_exec(std::shared_ptr<SessionChannel> channel);
  // Interactive shells (session_shell.cc).
  bool start_recording(SessionChannel& channel);
  void pass_typed_keys(const std::shared_ptr<SessionChannel>& channel);
  boost::asio::awaitable<void> decide_line(std::shared_ptr<SessionChannel> channel, bool echoed);
  void send_line(SessionChannel& channel);
  void drop_line(SessionChannel& channel);
  void shell_notice(SessionChannel& channel, std::string_view text);
  void flush_quiet_output(SessionChannel& channel);
  void record_output(SessionChannel& channel, const std::string& queue, std::size_t from);
  // The pump wakes by `when` even if nothing arrives (a pause in a shell's output).
  void wake_at(std::chrono::steady_clock::time_point when);
  void refuse_channel(SessionChannel& channel, const gateway::Refusal& refusal, int status);
  // What a client whose command (line, file) is held for review reads: the review notice.
  std::string hold_notice_text() const;
  void service();
  void service_channel(SessionChannel& channel);
  void finish_channel(SessionChannel& channel);
  void close_target(SessionChannel& channel);

  // Forwards (session_forward.cc): port forwards the client opens and connections to the
  // caller's agent the host opens, each decided as it opens and relayed as it is.
 public:
  // Bytes a forward relayed (for the totals and the idle timeout); something changed in one.
  void forward_bytes(uint64_t in, uint64_t out);
  void forward_changed();

 private:
  // libssh's message callback: what the server callbacks do not take. 0 when answered here.
  int on_message(ssh_message message);
  bool open_port_forward(ssh_message message);
  // Remote forwards: the client's request to have the host listen, its cancellation, and a
  // connection the host passes on (libssh's message callback on the host's side).
  bool listen_remote(ssh_message message);
  bool cancel_remote(ssh_message message);
  int on_target_message(ssh_message message);
  boost::asio::awaitable<void> clear_remote(std::shared_ptr<RemoteListen> listen);
  void service_remote_listens();
  boost::asio::awaitable<void> clear_forward(std::shared_ptr<ForwardChannel> forward);
  // The client asked for agent forwarding on `channel`: decided with its command.
  void decide_agent(SessionChannel& channel);
  // The host opens a channel to the caller's agent.
  ssh_channel open_agent_forward();
  void service_forwards();
  void service_forward(ForwardChannel& forward);
  void close_forward(ForwardChannel& forward);

  // The sftp subsystem (sftp_channel.cc): requests relayed, those that name files decided.
  void start_sftp(SessionChannel& channel);
  void service_sftp(SessionChannel& channel);
  void refuse_sftp_request(SessionChannel& channel, const gateway::Refusal& refusal);
  void stop_sftp(SessionChannel& channel, std::string_view why);

  // Legacy scp (scp_channel.cc): `scp -t PATH` or `scp -f PATH` decided as a transfer, then
  // each file and directory in its stream.
  void open_scp_transfer(SessionChannel& channel, policy::Command& command);
  void start_scp(SessionChannel& channel);
  void service_scp(SessionChannel& channel);
  void refuse_scp_entry(SessionChannel& channel, const gateway::Refusal& refusal);
  void stop_scp(SessionChannel& channel, std::string_view why);

  // A file operation of either (transfer_decisions.cc): decided now when it can be; false
  // when the host must be asked where its paths lead (`host_paths`, the paths as the host
  // reads them), or a review or the journal must be waited for (a coroutine of its own
  // resumes the stream).
  bool decide_file_operation(SessionChannel& channel, policy::Command command,
                             std::vector<std::string> host_paths, bool follow_last_link);
  boost::asio::awaitable<void> decide_file_operation_on_host(
      std::shared_ptr<SessionChannel> channel, policy::Command command,
      std::vector<std::string> host_paths, bool follow_last_link);
  bool decide_file_operation_now(SessionChannel& channel, policy::Command command);
  boost::asio::awaitable<void> await_file_decision(std::shared_ptr<SessionChannel> channel,
                                                   gateway::CommandGate::Outcome outcome);
  void allow_file_operation(SessionChannel& channel);
  void refuse_file_operation(SessionChannel& channel, const gateway::Refusal& refusal);
  // The operations allowed and not yet answered are recorded as failed with `why`.
  void drop_file_events(SessionChannel& channel, std::string_view why);
  // The transfer's channel closes: the session's turn is let go.
  void end_transfer(SessionChannel& channel);

  // Where paths lead on the host (session_host_paths.cc): asked of the host's sftp-server on
  // a channel of the gateway's own, when a guardrail has `paths` to match and the grant has
  // the classes `command` needs. The paths each of `paths` leads to (none for a path the host
  // cannot reach), or why the host cannot say.
  bool needs_host_paths(const policy::Command& command) const;
  // `earlier_answered`, when given: asked only once it holds (what the host has not yet done
  // may change where a path leads).
  boost::asio::awaitable<Result<std::vector<std::string>>> where_paths_lead(
      std::vector<std::string> paths, bool follow_last_link,
      std::function<bool()> earlier_answered = {});
  void service_host_paths();
  void fail_host_paths(std::string why);

  // The pump: waits for either socket (or a kick), lets libssh read and write, services.
  boost::asio::awaitable<void> pump();
  boost::asio::awaitable<bool> key_exchange();
  void kick();
  // Bytes from the client and from the host, for the journal and the live-session view (and
  // the idle timeout: bytes either way are activity).
  void count_bytes(uint64_t in, uint64_t out);
  // limits.idle_timeout: a session with no bytes either way for that long, and no exec command
  // or file transfer running (an interactive shell waiting at its prompt is idle), ends.
  void check_idle();
  bool wants_write(ssh_session session) const;

  gateway::CommandGate gate_;
  std::shared_ptr<HostKeys> host_keys_;
  std::function<void()> handshake_listener_;
  bool loopback_listener_ = false;
  std::string id_;
  std::string client_address_;
  std::chrono::steady_clock::time_point started_;

  SessionHandle client_;
  EventHandle event_;
  // A duplicate of the client socket for Asio to wait on; libssh owns the original.
  std::unique_ptr<boost::asio::posix::stream_descriptor> client_waiter_;
  ssh_server_callbacks_struct server_callbacks_{};
  std::unique_ptr<TargetConnection> target_;
  boost::asio::steady_timer kick_;
  bool kicked_ = false;
  std::optional<std::chrono::steady_clock::time_point> wake_at_;

  std::list<std::shared_ptr<SessionChannel>> channels_;
  std::list<std::shared_ptr<ForwardChannel>> forwards_;
  std::list<std::shared_ptr<RemoteListen>> remote_listens_;
  std::shared_ptr<HostPathChannel> host_paths_;
  // A command of this session was allowed the caller's agent: the host may open channels to it.
  bool agent_allowed_ = false;
  ssh_callbacks_struct target_callbacks_{};
  uint64_t next_batch_ = 0;
  int shells_ = 0;         // interactive shells opened, for their recordings' names
  bool deciding_ = false;  // one command at a time is decided (the gate holds one review)

  std::optional<gateway::Admitted> admitted_;
  std::string connection_;
  bool target_failed_ = false;
  std::string target_error_;
  bool logged_in_ = false;
  // The registered key a login used (its fingerprint), for the log; empty for other logins.
  std::string login_key_;
  int login_attempts_ = 0;
  bool ending_ = false;
  bool client_gone_ = false;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
  std::chrono::steady_clock::time_point last_activity_ = std::chrono::steady_clock::now();
};

}  // namespace portcullis::proto::ssh
