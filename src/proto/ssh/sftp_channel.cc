// The sftp subsystem through the gateway (sftp, and scp, which speaks sftp since OpenSSH 9).
// Opening it is decided as a whole (class sftp); then every request that names files is
// decided on its own under the same grant and guardrails (its paths, and file_write when it
// changes anything), journaled, and forwarded byte for byte or answered by the gateway with a
// PERMISSION_DENIED status that never reaches the host. Requests that move data of a handle
// (READ, WRITE, CLOSE, FSTAT, READDIR) pass unjournaled: the OPEN that made the handle was
// decided. File contents coming back are not masked: they are binary, cut anywhere, and a
// masked byte would corrupt the file the client writes.
//
// While a request waits for a review or for a strict journal, the client's stream waits
// behind it; replies to earlier requests still flow.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "policy/command.h"
#include "proto/ssh/channel_writes.h"
#include "proto/ssh/session.h"
#include "proto/ssh/session_channel.h"

namespace portcullis::proto::ssh {
using State = SessionChannel::State;
using SftpStep = sftp::SftpRelay::Step;

namespace {

policy::Command file_operation(const sftp::Request& request) {
  policy::Command command;
  command.text = fmt::format("sftp {}", sftp::describe(request));
  command.via = "sftp";
  command.detail = policy::transfer_files(request.writes, request.paths);
  return command;
}

}  // namespace

void Session::start_sftp(SessionChannel& c) {
  // The session's event is complete once the host's sftp-server runs: the events of its
  // requests follow it, each with its own outcome. The channel keeps the session's turn
  // (deciding_) until it closes.
  gate_.recorder().on_complete(std::nullopt);
  c.recorded = true;
  c.transfer_running = true;
}

void Session::service_sftp(SessionChannel& c) {
  auto& relay = *c.sftp;
  if (!relay.error().empty()) {
    stop_sftp(c, relay.error());
    return;
  }
  // The client's requests, while the client's side has room for the answers.
  while (!c.transfer_deciding && c.to_client_out.size() < SessionChannel::kMaxQueued) {
    const SftpStep step = relay.from_client(c.to_target);
    if (step == SftpStep::wait) break;
    if (step == SftpStep::broken) {
      stop_sftp(c, relay.error());
      return;
    }
    if (step == SftpStep::refuse) {
      const auto refusal = gate_.refuse_undecided(
          file_operation(relay.pending()).text, "sftp",
          {.reason = gateway::RefusalReason::denied,
           .rule = {},
           .message = fmt::format("the gateway cannot decide the sftp request {}: refused",
                                  relay.pending().operation)});
      refuse_sftp_request(c, refusal);
      continue;
    }
    const auto& request = relay.pending();
    if (!decide_file_operation(c, file_operation(request), request.paths,
                               sftp::follows_last_link(request)))
      break;
  }
  relay.flush_replies(c.to_client_out);
  write_queued(c.target, relay.to_host(), false);

  // More of the client's bytes, held by libssh while the queue was full.
  if (c.client_backlog && c.to_target.size() < SessionChannel::kMaxQueued) {
    char buffer[kReadChunk];
    const int n = ssh_channel_read_nonblocking(c.client, buffer, sizeof buffer, 0);
    if (n > 0) {
      c.to_target.append(buffer, static_cast<std::size_t>(n));
      count_bytes(static_cast<uint64_t>(n), 0);
    }
    if (n < static_cast<int>(sizeof buffer)) c.client_backlog = false;
    kick();  // what was read is taken at the next turn
  }
  // The client's end, once all it sent that can go has gone (a request cut short by it never
  // goes).
  if (c.client_eof && c.to_target.empty() && relay.to_host().empty() && !c.transfer_deciding &&
      !c.target_eof_sent && !c.target_closed) {
    ssh_channel_send_eof(c.target);
    c.target_eof_sent = true;
  }
  // The host's bytes, held by libssh while the client's side was full.
  for (const int is_stderr : {0, 1}) {
    std::string& queue = is_stderr ? c.to_client_err : c.to_client_out;
    if (!c.target_backlog[is_stderr] || queue.size() >= SessionChannel::kMaxQueued) continue;
    char buffer[kReadChunk];
    const int n = ssh_channel_read_nonblocking(c.target, buffer, sizeof buffer, is_stderr);
    if (n < static_cast<int>(sizeof buffer)) c.target_backlog[is_stderr] = false;
    if (c.target_backlog[is_stderr]) kick();
    if (n <= 0) continue;
    const std::string_view bytes(buffer, static_cast<std::size_t>(n));
    if (is_stderr)
      queue.append(bytes);
    else
      relay.from_host(bytes, queue);
    c.output_bytes += static_cast<uint64_t>(n);
    count_bytes(0, static_cast<uint64_t>(n));
  }
  // The host's answers to journaled requests, in the order they were journaled.
  std::string error;
  while (c.transfer_unanswered > 0 && relay.next_outcome(error)) {
    if (error.empty())
      gate_.recorder().on_complete(std::nullopt);
    else
      gate_.recorder().on_error(std::move(error));
    --c.transfer_unanswered;
  }
  if (!relay.error().empty()) {
    stop_sftp(c, relay.error());
    return;
  }
  if (c.target_closed || (c.target_eof && c.exit_status)) {
    if (c.target_backlog[0] || c.target_backlog[1]) return;
    c.state = State::finishing;
  }
}

void Session::refuse_sftp_request(SessionChannel& c, const gateway::Refusal& refusal) {
  // The client's sftp prints only the status code ("Permission denied"): the reason goes to
  // its stderr too, as for a refused command.
  c.sftp->refuse(refusal.message);
  c.sftp->flush_replies(c.to_client_out);
  c.to_client_err += fmt::format("portcullis: {}\n", refusal.message);
  kick();
}

void Session::stop_sftp(SessionChannel& c, std::string_view why) {
  // A stream the gateway cannot follow cannot be decided: the channel closes (fail closed).
  const auto refusal =
      gate_.refuse_undecided("sftp", "sftp",
                             {.reason = gateway::RefusalReason::denied,
                              .rule = {},
                              .message = fmt::format("the sftp session is closed: {}", why)});
  spdlog::info("event=sftp_stopped session={} reason={:?}", id_, why);
  drop_file_events(c, refusal.message);
  refuse_channel(c, refusal, kRefusedStatus);
}

}  // namespace portcullis::proto::ssh
