// Channels: an exec request is decided (and maybe held for a review) before the gateway opens
// a channel on the host and runs the same command line there, byte for byte; then stdin goes
// to the host, stdout and stderr come back masked, and the exit status is passed on. A refused
// command never reaches the host: the client reads why on stderr and exits with 126. A shell
// request is decided the same way (class shell); what is typed at it, line by line, is
// decided in session_shell.cc.
//
// Commands of one session run one at a time: the journal records each one's outcome in order,
// and the gate holds one command for review at a time.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "policy/command.h"
#include "proto/ssh/channel_writes.h"
#include "proto/ssh/host_path_channel.h"
#include "proto/ssh/session.h"
#include "proto/ssh/session_channel.h"

namespace portcullis::proto::ssh {
namespace asio = boost::asio;
using State = SessionChannel::State;

namespace {

// Channels one client connection may have open at once (OpenSSH's multiplexing opens one per
// command).
constexpr std::size_t kMaxChannels = 16;
// The exit status when the host could not be reached: 255, as ssh reports its own errors.
constexpr int kUnavailableStatus = 255;

SessionChannel* session_channel_of(void* userdata) {
  return static_cast<SessionChannel*>(userdata);
}

// The gate's refusals already name their rule ("blocked by rule \"r\": ...").
std::string refusal_line(const gateway::Refusal& refusal) {
  return fmt::format("portcullis: {}\n", refusal.message);
}

}  // namespace

ssh_channel Session::open_channel() {
  if (ending_ || !logged_in_ || channels_.size() >= kMaxChannels) return nullptr;
  ssh_channel client = ssh_channel_new(client_.get());
  if (!client) return nullptr;
  auto channel = std::make_shared<SessionChannel>();
  channel->session = this;
  channel->client = client;
  auto& cb = channel->client_callbacks;
  cb.userdata = channel.get();
  cb.channel_data_function = [](ssh_session, ssh_channel, void* data, uint32_t len, int,
                                void* userdata) -> int {
    auto& c = *session_channel_of(userdata);
    // Stdin before the command runs waits here too; a refused command never sees it.
    const std::size_t room = c.to_target.size() < SessionChannel::kMaxQueued
                                 ? SessionChannel::kMaxQueued - c.to_target.size()
                                 : 0;
    const auto taken = std::min<std::size_t>(room, len);
    if (taken < len) c.client_backlog = true;
    c.to_target.append(static_cast<const char*>(data), taken);
    c.session->count_bytes(taken, 0);
    c.session->kick();
    return static_cast<int>(taken);
  };
  cb.channel_eof_function = [](ssh_session, ssh_channel, void* userdata) {
    session_channel_of(userdata)->client_eof = true;
    session_channel_of(userdata)->session->kick();
  };
  cb.channel_close_function = [](ssh_session, ssh_channel, void* userdata) {
    session_channel_of(userdata)->client_closed = true;
    session_channel_of(userdata)->session->kick();
  };
  cb.channel_pty_request_function = [](ssh_session, ssh_channel, const char* term, int width,
                                       int height, int, int, void* userdata) -> int {
    auto& c = *session_channel_of(userdata);
    if (c.state != State::waiting) return SSH_ERROR;
    c.pty = true;
    c.term = term ? term : "xterm";
    c.columns = width;
    c.rows = height;
    return SSH_OK;
  };
  // Agent forwarding (`ssh -A`) is asked for before the command; it is decided with it
  // (decide_exec). libssh tells the client yes whatever is decided: OpenSSH's client asks
  // without waiting for an answer anyway.
  cb.channel_auth_agent_req_function = [](ssh_session, ssh_channel, void* userdata) {
    auto& c = *session_channel_of(userdata);
    if (c.state == State::waiting) c.agent_requested = true;
  };
  cb.channel_pty_window_change_function = [](ssh_session, ssh_channel, int width, int height, int,
                                             int, void* userdata) -> int {
    auto& c = *session_channel_of(userdata);
    c.columns = width;
    c.rows = height;
    if (c.target && c.state == State::running) ssh_channel_change_pty_size(c.target, width, height);
    if (c.recording) c.recording->resize(width, height);
    return SSH_OK;
  };
  cb.channel_exec_request_function = [](ssh_session, ssh_channel, const char* command,
                                        void* userdata) -> int {
    auto& c = *session_channel_of(userdata);
    if (c.state != State::waiting || !command) return SSH_ERROR;
    c.command = command;
    c.state = State::deciding;
    c.batch = 0;  // not yet started: service() starts it when the session is free
    c.session->kick();
    return SSH_OK;
  };
  cb.channel_shell_request_function = [](ssh_session, ssh_channel, void* userdata) -> int {
    auto& c = *session_channel_of(userdata);
    if (c.state != State::waiting) return SSH_ERROR;
    c.shell = true;
    c.command.clear();
    c.state = State::deciding;
    c.batch = 0;
    c.session->kick();
    return SSH_OK;
  };
  // The sftp subsystem (scp's too) is decided as a whole, then request by request
  // (sftp_channel.cc); other subsystems are refused.
  cb.channel_subsystem_request_function = [](ssh_session, ssh_channel, const char* subsystem,
                                             void* userdata) -> int {
    auto& c = *session_channel_of(userdata);
    if (c.state != State::waiting || !subsystem || std::string_view(subsystem) != "sftp")
      return SSH_ERROR;
    c.subsystem = subsystem;
    c.sftp = std::make_unique<sftp::SftpRelay>();
    c.state = State::deciding;
    c.batch = 0;
    c.session->kick();
    return SSH_OK;
  };
  ssh_callbacks_init(&cb);
  ssh_set_channel_callbacks(client, &cb);
  channels_.push_back(std::move(channel));
  return client;
}

std::string Session::hold_notice_text() const {
  const auto notice = gate_.hold_notice();
  std::string text = fmt::format("portcullis: {}\n", notice.message);
  if (!notice.detail.empty()) text += fmt::format("  {}\n", notice.detail);
  return text;
}

void Session::refuse_channel(SessionChannel& channel, const gateway::Refusal& refusal, int status) {
  if (channel.state == State::closed) return;
  if (channel.state == State::waiting || channel.state == State::deciding) {
    // Never forwarded: the gate recorded what it decided, if it decided.
    channel.recorded = true;
  } else if (!channel.recorded && channel.state != State::finishing) {
    gate_.recorder().on_streamed_data(channel.output_bytes);
    gate_.recorder().on_error(refusal.message);
    channel.recorded = true;
    deciding_ = false;
  }
  close_target(channel);
  channel.to_client_err += refusal_line(refusal);
  channel.exit_status = status;
  channel.target_closed = true;
  channel.state = State::finishing;
  channel.out_masking.reset();
  channel.err_masking.reset();
  kick();
}

asio::awaitable<void> Session::decide_exec(std::shared_ptr<SessionChannel> channel) {
  auto self = shared_from_this();
  const bool sftp = channel->subsystem == "sftp";
  const bool shell = channel->shell;
  if (!gate_.refresh()) co_return;
  gate_.count_command();
  policy::Command command;
  command.text = sftp ? "sftp" : channel->command;
  command.via = sftp ? "sftp" : shell ? "shell" : "exec";
  command.detail = sftp    ? policy::open_sftp()
                   : shell ? policy::open_shell()
                           : policy::read_shell_command(command.text);
  if (!sftp && !shell) open_scp_transfer(*channel, command);  // legacy scp is a transfer
  if (channel->scp && needs_host_paths(command)) {
    // Its PATH is decided on where it leads on the host too (session_host_paths.cc).
    std::vector<std::string> sent{channel->scp->request().path};
    auto led = co_await where_paths_lead(std::move(sent), true);
    if (!led) {
      if (!gate_.refresh()) co_return;
      refuse_channel(*channel,
                     gate_.refuse_undecided(command.text, command.via,
                                            {.reason = gateway::RefusalReason::denied,
                                             .rule = {},
                                             .message = led.error().message}),
                     kRefusedStatus);
      deciding_ = false;
      co_return;
    }
    add_paths_led_to(command, std::move(led).value());
  }
  auto outcome = gate_.decide(command, channel->batch);
  if (outcome.next == gateway::CommandGate::Next::hold) {
    channel->to_client_err += hold_notice_text();
    kick();
    outcome = co_await gate_.wait_for_review(channel->batch);
  }
  // The client closed the channel, or the session ends, while the decision was made: a command
  // recorded to run did not.
  const auto withdrawn = [&] {
    if (!ending_ && channel->state != State::closed) return false;
    if (outcome.next == gateway::CommandGate::Next::run)
      gate_.recorder().on_error("the client closed the channel before the command ran");
    deciding_ = false;
    kick();  // a command waiting its turn is decided now, not at the next byte
    return true;
  };
  if (withdrawn()) co_return;
  if (outcome.next == gateway::CommandGate::Next::refuse) {
    refuse_channel(*channel, outcome.refusal, kRefusedStatus);  // the gate recorded it
    deciding_ = false;
    co_return;
  }
  if (channel->agent_requested) decide_agent(*channel);
  if (auto failed = co_await gate_.wait_for_commits()) {
    refuse_channel(*channel, *failed, kRefusedStatus);
    end(*failed);
    co_return;
  }
  if (withdrawn()) co_return;
  if (shell && !start_recording(*channel)) {
    // A shell the journal would see only in part, and its recording not at all, is not opened.
    refuse_channel(*channel,
                   {.reason = gateway::RefusalReason::denied,
                    .rule = {},
                    .message = "the gateway cannot record this shell, so it is not opened"},
                   kRefusedStatus);
    gate_.recorder().on_error("126: the shell could not be recorded");
    deciding_ = false;
    co_return;
  }
  channel->state = State::opening;
  channel->started = std::chrono::steady_clock::now();
  kick();
}

void Session::service() {
  wake_at_.reset();
  check_idle();
  if (target_failed_ || (ending_ && !target_)) {
    for (auto& channel : channels_) {
      if (channel->state == State::closed || channel->state == State::finishing) continue;
      refuse_channel(*channel,
                     {.reason = gateway::RefusalReason::connection_lost,
                      .rule = {},
                      .message = target_error_.empty() ? "the session is ending" : target_error_},
                     kUnavailableStatus);
    }
  }
  // The next command waiting for a decision, once the host is reachable and none runs.
  if (!deciding_ && target_ && gate_.is_open() && !ending_) {
    for (auto& channel : channels_) {
      if (channel->state != State::deciding || channel->batch != 0) continue;
      // Taken now, not when the coroutine first runs: the next service() must not start it
      // again.
      deciding_ = true;
      channel->batch = ++next_batch_;
      asio::co_spawn(kick_.get_executor(), decide_exec(channel), asio::detached);
      break;
    }
  }
  for (auto it = channels_.begin(); it != channels_.end();) {
    service_channel(**it);
    if ((*it)->state == State::closed) {
      it = channels_.erase(it);
    } else {
      ++it;
    }
  }
  service_forwards();
  service_host_paths();
}

void Session::service_channel(SessionChannel& c) {
  if (c.client_closed && c.state != State::closed && c.state != State::finishing) {
    // The client went away: the command on the host is ended with its channel.
    if ((c.state == State::deciding || c.line_deciding) && gate_.holding()) gate_.cancel_hold();
    if (!c.recorded &&
        (c.state == State::running || c.state == State::opening || c.state == State::starting)) {
      gate_.recorder().on_streamed_data(c.output_bytes);
      gate_.recorder().on_error("the client closed the channel before the command ended");
      c.recorded = true;
      deciding_ = false;
    }
    finish_channel(c);
    return;
  }
  switch (c.state) {
    case State::waiting:
    case State::deciding:
    case State::closed:
      return;
    case State::opening: {
      if (!c.target) {
        c.target = ssh_channel_new(target_->session());
        if (!c.target) break;
        auto& cb = c.target_callbacks;
        cb.userdata = &c;
        cb.channel_data_function = [](ssh_session, ssh_channel, void* data, uint32_t len,
                                      int is_stderr, void* userdata) -> int {
          auto& ch = *session_channel_of(userdata);
          std::string& queue = is_stderr ? ch.to_client_err
                               : ch.scp  ? ch.scp_from_host  // read by service_scp
                                         : ch.to_client_out;
          if (queue.size() >= SessionChannel::kMaxQueued) {
            ch.target_backlog[is_stderr ? 1 : 0] = true;
            return 0;
          }
          auto& masking = is_stderr ? ch.err_masking : ch.out_masking;
          const std::string_view bytes(static_cast<const char*>(data), len);
          const std::size_t from = queue.size();
          if (masking)
            masking->feed(bytes, queue);
          else if (ch.sftp && !is_stderr)
            ch.sftp->from_host(bytes, queue);  // a stream it cannot follow: service_sftp stops
          else
            queue.append(bytes);
          if (ch.shell) {
            ch.session->record_output(ch, queue, from);
            ch.output_since_line += len;
            ch.last_output = std::chrono::steady_clock::now();
          }
          ch.output_bytes += len;
          ch.session->count_bytes(0, len);
          ch.session->kick();
          return static_cast<int>(len);
        };
        cb.channel_eof_function = [](ssh_session, ssh_channel, void* userdata) {
          session_channel_of(userdata)->target_eof = true;
          session_channel_of(userdata)->session->kick();
        };
        cb.channel_close_function = [](ssh_session, ssh_channel, void* userdata) {
          session_channel_of(userdata)->target_closed = true;
          session_channel_of(userdata)->session->kick();
        };
        cb.channel_exit_status_function = [](ssh_session, ssh_channel, int status, void* userdata) {
          session_channel_of(userdata)->exit_status = status;
        };
        cb.channel_exit_signal_function = [](ssh_session, ssh_channel, const char* signal, int,
                                             const char*, const char*, void* userdata) {
          session_channel_of(userdata)->exit_signal = signal ? signal : "";
        };
        ssh_callbacks_init(&cb);
      }
      const int rc = ssh_channel_open_session(c.target);
      if (rc == SSH_AGAIN) return;
      if (rc != SSH_OK) break;
      ssh_set_channel_callbacks(c.target, &c.target_callbacks);
      c.state = State::starting;
      [[fallthrough]];
    }
    case State::starting: {
      if (c.agent_forwarding && !c.agent_requested_on_target) {
        // Sent without asking for an answer, as OpenSSH's client does: a host that does not
        // forward agents runs the command without one.
        if (ssh_channel_request_auth_agent(c.target) == SSH_AGAIN) return;
        c.agent_requested_on_target = true;
      }
      if (c.pty && !c.pty_requested) {
        const int rc = ssh_channel_request_pty_size(
            c.target, c.term.empty() ? "dumb" : c.term.c_str(), c.columns, c.rows);
        if (rc == SSH_AGAIN) return;
        if (rc != SSH_OK) break;
        c.pty_requested = true;
      }
      if (c.sftp) {
        const int rc = ssh_channel_request_subsystem(c.target, c.subsystem.c_str());
        if (rc == SSH_AGAIN) return;
        if (rc != SSH_OK) break;
        start_sftp(c);
        c.state = State::running;
        service_sftp(c);
        break;
      }
      const int rc = c.shell ? ssh_channel_request_shell(c.target)
                             : ssh_channel_request_exec(c.target, c.command.c_str());
      if (rc == SSH_AGAIN) return;
      if (rc != SSH_OK) break;
      // An scp stream's stdout is file data: never masked, as sftp's is not.
      if (!c.scp) c.out_masking.emplace(gate_.masker(), gate_.mask_scratch(), &gate_.mask_counts());
      c.err_masking.emplace(gate_.masker(), gate_.mask_scratch(), &gate_.mask_counts());
      c.state = State::running;
      if (c.scp) start_scp(c);
      if (c.shell) {
        // The shell is open: its event is complete, and each line typed gets one of its own.
        // The session's turn stays with the shell until it ends (finish_channel).
        gate_.recorder().on_complete(std::nullopt);
        c.recorded = true;
        c.shell_running = true;
      }
      [[fallthrough]];
    }
    case State::running: {
      if (c.sftp) {
        service_sftp(c);
        break;
      }
      if (c.scp) {
        service_scp(c);
        break;
      }
      // Stdin to the host, then its end. A shell's keys pass once their line is decided.
      if (c.shell) {
        for (auto& channel : channels_)
          if (channel.get() == &c) pass_typed_keys(channel);
        write_queued(c.target, c.to_shell, false);
        flush_quiet_output(c);
      } else {
        write_queued(c.target, c.to_target, false);
      }
      if (c.client_backlog && c.to_target.size() < SessionChannel::kMaxQueued) {
        char buffer[kReadChunk];
        const int n = ssh_channel_read_nonblocking(c.client, buffer, sizeof buffer, 0);
        if (n > 0) {
          c.to_target.append(buffer, static_cast<std::size_t>(n));
          count_bytes(static_cast<uint64_t>(n), 0);
        }
        if (n < static_cast<int>(sizeof buffer)) c.client_backlog = false;
        if (c.client_backlog) kick();  // more is held: come back once this is written
      }
      if (c.to_target.empty() && c.to_shell.empty() && c.client_eof && !c.target_eof_sent &&
          !c.target_closed) {
        ssh_channel_send_eof(c.target);
        c.target_eof_sent = true;
      }
      // Output the host sent while the client's side was full.
      for (const int is_stderr : {0, 1}) {
        std::string& queue = is_stderr ? c.to_client_err : c.to_client_out;
        if (!c.target_backlog[is_stderr] || queue.size() >= SessionChannel::kMaxQueued) continue;
        char buffer[kReadChunk];
        const int n = ssh_channel_read_nonblocking(c.target, buffer, sizeof buffer, is_stderr);
        if (n < static_cast<int>(sizeof buffer)) c.target_backlog[is_stderr] = false;
        if (c.target_backlog[is_stderr]) kick();
        if (n <= 0) continue;
        auto& masking = is_stderr ? c.err_masking : c.out_masking;
        const std::size_t from = queue.size();
        masking->feed(std::string_view(buffer, static_cast<std::size_t>(n)), queue);
        if (c.shell) {
          record_output(c, queue, from);
          c.output_since_line += static_cast<uint64_t>(n);
          c.last_output = std::chrono::steady_clock::now();
        }
        c.output_bytes += static_cast<uint64_t>(n);
        count_bytes(0, static_cast<uint64_t>(n));
      }
      if (c.target_closed || (c.target_eof && c.exit_status)) {
        if (c.target_backlog[0] || c.target_backlog[1]) break;
        const std::size_t from = c.to_client_out.size();
        c.out_masking->finish(c.to_client_out);
        record_output(c, c.to_client_out, from);
        c.err_masking->finish(c.to_client_err);
        c.state = State::finishing;
      }
      break;
    }
    case State::finishing:
      break;
  }
  if (c.state == State::opening || c.state == State::starting) {
    // The host refused the channel or the command.
    const std::string why =
        fmt::format("the host of connection \"{}\" refused to run the command: {}", connection_,
                    ssh_get_error(target_->session()));
    refuse_channel(c,
                   {.reason = gateway::RefusalReason::connection_lost, .rule = {}, .message = why},
                   kUnavailableStatus);
  }
  write_queued(c.client, c.to_client_out, false);
  write_queued(c.client, c.to_client_err, true);
  if (c.state == State::finishing && c.to_client_out.empty() && c.to_client_err.empty()) {
    if (!c.recorded) {
      gate_.recorder().on_streamed_data(c.output_bytes);
      if (!c.exit_signal.empty())
        gate_.recorder().on_error(fmt::format("killed by signal {}", c.exit_signal));
      else if (c.exit_status.value_or(0) != 0)
        gate_.recorder().on_error(fmt::format("exit status {}", *c.exit_status));
      else
        gate_.recorder().on_complete(std::nullopt);
      c.recorded = true;
      deciding_ = false;
    }
    if (!c.exit_signal.empty())
      ssh_channel_request_send_exit_signal(c.client, c.exit_signal.c_str(), 0, "", "");
    else
      ssh_channel_request_send_exit_status(c.client, c.exit_status.value_or(kUnavailableStatus));
    finish_channel(c);
  }
}

void Session::close_target(SessionChannel& c) {
  if (!c.target) return;
  // A command still running on the host is ended with its channel: OpenSSH's sshd signals
  // the process it started (without it, a command with no terminal would run on to its end).
  if (!c.target_closed && c.state == State::running)
    ssh_channel_request_send_signal(c.target, "TERM");
  ssh_remove_channel_callbacks(c.target, &c.target_callbacks);
  ssh_channel_close(c.target);
  ssh_channel_free(c.target);
  c.target = nullptr;
}

void Session::finish_channel(SessionChannel& c) {
  if (c.state == State::closed) return;
  end_transfer(c);
  close_target(c);
  if (c.shell_running) {
    // The session's next command may now be decided.
    c.shell_running = false;
    deciding_ = false;
  }
  if (c.recording) {
    spdlog::info("event=ssh_shell_recorded session={} recording={:?}", id_,
                 c.recording->path().string());
    c.recording.reset();
  }
  if (c.client) {
    ssh_remove_channel_callbacks(c.client, &c.client_callbacks);
    if (!c.client_closed) {
      ssh_channel_send_eof(c.client);
      ssh_channel_close(c.client);
    }
    ssh_channel_free(c.client);
    c.client = nullptr;
  }
  c.state = State::closed;
}

}  // namespace portcullis::proto::ssh
