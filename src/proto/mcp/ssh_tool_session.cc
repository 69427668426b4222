// The exec tool's in-process SSH client: libssh's blocking client API, run on a thread of the
// tool session's own; the MCP endpoint's coroutines only await its results.
#include "proto/mcp/ssh_tool_session.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <libssh/callbacks.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>

#include "proto/ssh/libssh_handles.h"

namespace portcullis::proto::mcp {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// libssh's blocking calls (key exchange, login, opening a channel) give up after this long: the
// front end answers them at once, so only a stuck gateway runs into it.
constexpr long kBlockingTimeoutSeconds = 30;
// The front end's exit statuses (src/proto/ssh/session_channels.cc): 126 for a command it
// refused, 255 when the host could not run it or the session is ending.
constexpr int kRefusedStatus = 126;
constexpr int kUnavailableStatus = 255;
// After a command ended by the gateway's words with status 255: when the session is ending,
// the front end's disconnect follows the channel's close at once; this long is waited for it.
constexpr auto kEndGrace = std::chrono::milliseconds(250);
// How the front end's own lines on a channel's stderr begin, and its notice of a hold
// (CommandGate::hold_notice, written by Session::decide_exec).
constexpr std::string_view kGatewayPrefix = "portcullis: ";
constexpr std::string_view kHoldNoticePrefix = "portcullis: approval required by rule ";

ToolError tool_error(std::string message) {
  return ToolError{.code = {}, .message = std::move(message), .detail = {}};
}

// The libssh side of a tool session: used only on the session's thread, but for `ended`
// and the shutdown of `socket_watch`, which close() does from the MCP endpoint's thread.
struct SshClient {
  ssh::SessionHandle session;
  ssh::EventHandle event;
  int socket_watch = -1;  // a duplicate of libssh's socket, for shut_down()
  std::atomic<bool> ended{false};
  HoldProbe held;

  ~SshClient() {
    if (event && session) ssh_event_remove_session(event.get(), session.get());
    event.reset();
    // Frees what is left of the channels, then closes libssh's descriptor.
    if (session) ssh_disconnect(session.get());
    session.reset();
    if (socket_watch >= 0) ::close(socket_watch);
  }

  // The front end reads the end of the connection and ends its session; a libssh call
  // waiting on it returns at once. (Not ssh_disconnect here: it frees the channels, which
  // their owners free after this.)
  void shut_down() {
    ended = true;
    if (socket_watch >= 0) ::shutdown(socket_watch, SHUT_RDWR);
  }

  // Ends the session (the next call opens another): the error the call reports.
  ToolError end(std::string message) {
    shut_down();
    return tool_error(std::move(message));
  }

  bool closed() const {
    return !ssh_is_connected(session.get()) ||
           (ssh_get_status(session.get()) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0;
  }
};

}  // namespace

struct SshToolSession::State {
  // Declared first, destroyed last: after the thread that uses it has stopped.
  std::unique_ptr<SshClient> client = std::make_unique<SshClient>();
  asio::thread_pool thread{1};

  ~State() {
    // A call still running (its caller gone) fails at once instead of at libssh's timeout.
    client->shut_down();
    thread.join();
  }
};

namespace {

template <typename Result, typename Work>
asio::awaitable<Result> call(Work work) {
  co_return work();
}

// Runs `work` (blocking) on `thread`; the caller resumes on its own executor with the result.
// (No lambda coroutine and no temporary inside the co_await: GCC 12 frees such temporaries
// of a coroutine twice.)
template <typename Result, typename Work>
asio::awaitable<Result> on_thread(asio::thread_pool& thread, Work work) {
  auto spawned =
      asio::co_spawn(thread.get_executor(), call<Result>(std::move(work)), asio::use_awaitable);
  Result result = co_await std::move(spawned);
  co_return result;
}

// The gateway's words without the prefix its lines carry: "portcullis: blocked by rule ..."
// reads "blocked by rule ...", as the PostgreSQL front end's message does.
std::string gateway_message(std::string_view text) {
  if (text.starts_with(kGatewayPrefix)) text.remove_prefix(kGatewayPrefix.size());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  return std::string(text);
}

// A held command that then ran, or was refused, had the hold notice (and its detail lines,
// indented) written to its stderr first: the answer says so in `review` instead.
void drop_hold_notice(std::string& err) {
  if (!err.starts_with(kHoldNoticePrefix)) return;
  auto end = err.find('\n');
  while (end != std::string::npos && err.compare(end + 1, 2, "  ") == 0)
    end = err.find('\n', end + 1);
  err.erase(0, end == std::string::npos ? err.size() : end + 1);
}

// Logs in to the front end over `fd` (which libssh owns from here): nothing, or why not.
std::optional<ToolError> sign_in(SshClient& client, int fd, const std::string& connection,
                                 const Secret& credential) {
  client.session.reset(ssh_new());
  ssh_session session = client.session.get();
  if (!session) {
    ::close(fd);
    return client.end("out of memory");
  }
  // Nothing of the machine's ssh configuration applies to a connection inside the process.
  const bool no = false;
  ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &no);
  ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
  ssh_options_set(session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
  ssh_options_set(session, SSH_OPTIONS_HOST, "portcullis");
  // The connection's name as the user name, as `ssh CONNECTION@GATEWAY` sends it.
  ssh_options_set(session, SSH_OPTIONS_USER, connection.c_str());
  const long timeout = kBlockingTimeoutSeconds;
  ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout);
  const socket_t socket = fd;
  ssh_options_set(session, SSH_OPTIONS_FD, &socket);
  if (ssh_connect(session) != SSH_OK)
    return client.end(
        fmt::format("the gateway's SSH front end did not answer: {}", ssh_get_error(session)));
  // The host key is not checked: the other end of this socketpair is the gateway's own SSH
  // front end in this same process, which nothing else can stand in for.
  // The credential goes as the password: the front end's password login admits a token (longer
  // than OpenSSH's 1023-byte cap, which libssh does not have) or an API key.
  if (ssh_userauth_password(session, nullptr, credential.reveal().c_str()) != SSH_AUTH_SUCCESS) {
    // The front end says why in a banner before it refuses (Session::refuse_login).
    std::string why;
    if (char* banner = ssh_get_issue_banner(session)) {
      why = gateway_message(banner);
      ssh_string_free_char(banner);
    }
    if (why.empty())
      why = fmt::format("the gateway refused the login to connection \"{}\"", connection);
    return client.end(std::move(why));
  }
  client.event.reset(ssh_event_new());
  if (!client.event || ssh_event_add_session(client.event.get(), session) != SSH_OK)
    return client.end("cannot watch the gateway's SSH session");
  return std::nullopt;
}

// What the channel's callbacks note while a command runs.
struct Output {
  std::size_t max_bytes = 0;
  std::size_t kept = 0;
  std::string out, err;
  bool truncated = false;
  bool closed = false;
  std::optional<int> exit_status;
};

// The channel of one command: its callbacks let go of `output` before it does.
class CommandChannel {
 public:
  CommandChannel(ssh_channel channel, Output& output) : channel_(channel) {
    callbacks_.userdata = &output;
    callbacks_.channel_data_function = [](ssh_session, ssh_channel, void* data, uint32_t len,
                                          int is_stderr, void* userdata) -> int {
      auto& o = *static_cast<Output*>(userdata);
      const std::size_t room = o.max_bytes > o.kept ? o.max_bytes - o.kept : 0;
      const std::size_t taken = std::min<std::size_t>(room, len);
      (is_stderr ? o.err : o.out).append(static_cast<const char*>(data), taken);
      o.kept += taken;
      if (taken < len) o.truncated = true;
      return static_cast<int>(len);  // beyond the limit, dropped
    };
    callbacks_.channel_close_function = [](ssh_session, ssh_channel, void* userdata) {
      static_cast<Output*>(userdata)->closed = true;
    };
    callbacks_.channel_exit_status_function = [](ssh_session, ssh_channel, int status,
                                                 void* userdata) {
      static_cast<Output*>(userdata)->exit_status = status;
    };
    ssh_callbacks_init(&callbacks_);
  }
  ~CommandChannel() {
    if (callbacks_set_) ssh_remove_channel_callbacks(channel_, &callbacks_);
    // Closed by this side, the front end ends the command (or withdraws the held one).
    if (!ssh_channel_is_closed(channel_)) ssh_channel_close(channel_);
    ssh_channel_free(channel_);
  }
  CommandChannel(const CommandChannel&) = delete;
  CommandChannel& operator=(const CommandChannel&) = delete;

  void watch() {
    ssh_set_channel_callbacks(channel_, &callbacks_);
    callbacks_set_ = true;
  }
  ssh_channel get() const { return channel_; }

 private:
  ssh_channel channel_;
  ssh_channel_callbacks_struct callbacks_{};
  bool callbacks_set_ = false;
};

std::variant<ExecAnswer, ToolError> run_command(SshClient& client, const ExecRequest& request,
                                                std::size_t max_bytes) {
  if (client.ended) return tool_error("the gateway's SSH session has ended");
  ssh_session session = client.session.get();
  ssh_channel raw = ssh_channel_new(session);
  if (!raw) return client.end("out of memory");
  Output output;
  output.max_bytes = max_bytes;
  CommandChannel channel(raw, output);
  // Refused only when the session is over (the front end takes a channel while it runs).
  if (ssh_channel_open_session(raw) != SSH_OK)
    return client.end(fmt::format("the gateway's SSH session ended: {}", ssh_get_error(session)));
  channel.watch();
  if (ssh_channel_request_exec(raw, request.command.c_str()) != SSH_OK)
    return client.end(fmt::format("the gateway's SSH session ended: {}", ssh_get_error(session)));
  // No stdin: a command that reads it sees its end instead of waiting.
  ssh_channel_send_eof(raw);

  const auto session_over = [&]() -> ToolError {
    const std::string said =
        output.err.starts_with(kGatewayPrefix)
            ? gateway_message(output.err.substr(output.err.rfind(kGatewayPrefix)))
            : "the gateway's SSH session ended";
    return client.end(said);
  };
  std::string review;  // the hold seen, and since when
  Clock::time_point held_since;
  Clock::time_point probed;
  // The timeout counts the time the command runs, not the time it is held.
  Clock::time_point running_since = Clock::now();
  while (!output.closed) {
    const int polled = ssh_event_dopoll(client.event.get(), static_cast<int>(kHoldPoll.count()));
    if ((polled == SSH_ERROR && errno != EINTR) || client.closed()) return session_over();
    if (output.closed) break;
    if (output.truncated) {
      // Enough kept: the channel is closed (the command ends on the host) rather than read
      // to its end, which a command with endless output never reaches.
      return ExecAnswer{.stdout_text = std::move(output.out),
                        .stderr_text = std::move(output.err),
                        .exit_status = std::nullopt,
                        .truncated = true,
                        .timed_out = false,
                        .refusal = {},
                        .review = {}};
    }
    // Output wakes the loop before its time: the registry is asked no more often for it.
    const auto now = Clock::now();
    if (now - probed < kHoldPoll) continue;
    probed = now;
    const std::string held = client.held ? client.held() : std::string();
    if (held.empty()) {
      if (!review.empty()) running_since = now;  // released: it runs from now
      review.clear();
      if (now - running_since >= request.timeout)
        return ExecAnswer{.stdout_text = std::move(output.out),
                          .stderr_text = std::move(output.err),
                          .exit_status = std::nullopt,
                          .truncated = output.truncated,
                          .timed_out = true,
                          .refusal = {},
                          .review = {}};
      continue;
    }
    if (held != review) {
      review = held;
      held_since = now;
    }
    // Withdrawn once the call's wait is over: closing the channel (CommandChannel's
    // destructor) cancels the hold on the front end, and the review stays pending.
    if (now - held_since >= request.wait)
      return ExecAnswer{.stdout_text = {},
                        .stderr_text = {},
                        .exit_status = std::nullopt,
                        .truncated = false,
                        .timed_out = false,
                        .refusal = {},
                        .review = review};
  }

  drop_hold_notice(output.err);
  ExecAnswer answer{.stdout_text = std::move(output.out),
                    .stderr_text = std::move(output.err),
                    .exit_status = output.exit_status,
                    .truncated = output.truncated,
                    .timed_out = false,
                    .refusal = {},
                    .review = {}};
  // The gateway's own last words on stderr (`portcullis: ...`), with its exit status.
  const auto& err = answer.stderr_text;
  const auto last_line = err.size() > 1 ? err.rfind('\n', err.size() - 2) : std::string::npos;
  const std::string_view last =
      std::string_view(err).substr(last_line == std::string::npos ? 0 : last_line + 1);
  const bool gateway_last =
      answer.exit_status && last.starts_with(kGatewayPrefix) && last.ends_with('\n');
  if (gateway_last && *answer.exit_status == kUnavailableStatus) {
    // The session is ending (a kill, a revocation, the gateway stopping), its command with it;
    // or the front end lost the host, which it does not reconnect to.
    const auto deadline = Clock::now() + kEndGrace;
    while (!client.closed() && Clock::now() < deadline)
      ssh_event_dopoll(client.event.get(), static_cast<int>(kHoldPoll.count()));
    if (client.closed()) return client.end(gateway_message(last));
    if (answer.stdout_text.empty() && last.size() == err.size()) {
      // Refused for want of the host: the next call opens a session of its own.
      answer.refusal = gateway_message(last);
      client.end(answer.refusal);
    }
  }
  // The front end's refusal: its one line on stderr, nothing on stdout, its exit status (a
  // command of the host's that prints the same reads as one; it ran all the same).
  if (gateway_last && *answer.exit_status == kRefusedStatus && answer.stdout_text.empty() &&
      last.size() == err.size())
    answer.refusal = gateway_message(last);
  return answer;
}

}  // namespace

SshToolSession::SshToolSession(std::unique_ptr<State> state) : state_(std::move(state)) {}

SshToolSession::~SshToolSession() = default;

asio::awaitable<std::variant<std::shared_ptr<SshToolSession>, ToolError>> SshToolSession::open(
    asio::any_io_executor, Adopt adopt, std::string connection, Secret credential,
    std::string client_address, HoldProbe held) {
  auto pair = make_socketpair();
  if (!pair) co_return tool_error(pair.error().message);
  auto state = std::make_unique<State>();
  state->client->held = std::move(held);
  state->client->socket_watch = ::fcntl(pair->first, F_DUPFD_CLOEXEC, 0);
  if (state->client->socket_watch < 0) {
    const std::string why = std::strerror(errno);
    ::close(pair->first);
    ::close(pair->second);
    co_return tool_error(fmt::format("cannot duplicate a socket: {}", why));
  }
  if (auto adopted =
          adopt(gateway::InProcessConnection{.fd = pair->second, .client_address = client_address});
      !adopted) {
    ::close(pair->first);
    co_return tool_error(adopted.error().message);
  }
  SshClient* client = state->client.get();
  auto log_in = [client, fd = pair->first, connection = std::move(connection),
                 credential = std::move(credential)] {
    return sign_in(*client, fd, connection, credential);
  };
  auto refused = co_await on_thread<std::optional<ToolError>>(state->thread, std::move(log_in));
  if (refused) co_return std::move(*refused);
  co_return std::make_shared<SshToolSession>(std::move(state));
}

asio::awaitable<std::variant<ExecAnswer, ToolError>> SshToolSession::run(ExecRequest request,
                                                                         std::size_t max_bytes) {
  // Kept while the command runs: the thread and the client outlive the call.
  auto self = shared_from_this();
  SshClient* client = state_->client.get();
  auto command = [client, request = std::move(request), max_bytes] {
    return run_command(*client, request, max_bytes);
  };
  auto ran =
      co_await on_thread<std::variant<ExecAnswer, ToolError>>(state_->thread, std::move(command));
  co_return ran;
}

bool SshToolSession::ended() const {
  return state_->client->ended;
}

void SshToolSession::close() {
  state_->client->shut_down();
}

}  // namespace portcullis::proto::mcp
