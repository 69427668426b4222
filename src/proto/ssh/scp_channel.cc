// Legacy scp (`scp -O`) through the gateway: not a subsystem but an exec request of `scp -t
// PATH` (the host receives files) or `scp -f PATH` (the host sends them). Recognised, it is
// decided as a transfer (class sftp, and file_write for -t; a grant's programs do not apply),
// then every file and directory its stream announces is decided on its own under the same
// grant and guardrails as an sftp request, journaled, and forwarded byte for byte or answered
// by the gateway with a warning on which scp skips it. File contents are not masked.
//
// While an entry waits for a review or for a strict journal, the sender's stream waits behind
// it. A stream the gateway cannot follow ends the transfer: the client is sent a fatal message
// and the host's scp is stopped.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "policy/command.h"
#include "proto/ssh/channel_writes.h"
#include "proto/ssh/session.h"
#include "proto/ssh/session_channel.h"
#include "shell/scp_request.h"

namespace portcullis::proto::ssh {
using State = SessionChannel::State;
using ScpStep = scp::ScpStream::Step;

namespace {

policy::Command file_operation(const scp::Entry& entry, bool upload) {
  policy::Command command;
  command.text = scp::describe(entry, upload);
  command.via = "exec";  // the stream of the exec request that runs scp
  command.detail = policy::transfer_files(upload, entry.paths);
  return command;
}

// The stream's bytes toward each peer: the sender is the client for an upload, the host for a
// download.
std::string& toward_host(scp::ScpStream& stream) {
  return stream.upload() ? stream.to_receiver() : stream.to_sender();
}
std::string& toward_client(scp::ScpStream& stream) {
  return stream.upload() ? stream.to_sender() : stream.to_receiver();
}

}  // namespace

void Session::open_scp_transfer(SessionChannel& c, policy::Command& command) {
  const auto request = shell::read_scp_request(c.command);
  if (!request) return;  // an ordinary command line
  command.detail = policy::open_scp(*request);
  c.scp = std::make_unique<scp::ScpStream>(*request);
}

void Session::start_scp(SessionChannel& c) {
  // As for sftp: the transfer's event is complete once the host's scp runs, its entries'
  // events follow, and the channel keeps the session's turn (deciding_) until it closes.
  gate_.recorder().on_complete(std::nullopt);
  c.recorded = true;
  c.transfer_running = true;
}

void Session::service_scp(SessionChannel& c) {
  auto& stream = *c.scp;
  const bool upload = stream.upload();
  std::string& from_sender = upload ? c.to_target : c.scp_from_host;
  std::string& from_receiver = upload ? c.scp_from_host : c.to_target;

  if (stream.from_receiver(from_receiver) == ScpStep::broken) {
    stop_scp(c, stream.error());
    return;
  }
  // The sender's lines and data, while both sides have room.
  while (!c.transfer_deciding && c.to_client_out.size() < SessionChannel::kMaxQueued &&
         toward_host(stream).size() < SessionChannel::kMaxQueued) {
    const ScpStep step = stream.from_sender(from_sender);
    if (step == ScpStep::broken) {
      stop_scp(c, stream.error());
      return;
    }
    // scp's source and sink open and stat what they name, following links.
    if (step == ScpStep::wait ||
        !decide_file_operation(c, file_operation(stream.pending(), stream.upload()),
                               stream.pending().host_paths, true))
      break;
  }
  c.to_client_out += toward_client(stream);
  toward_client(stream).clear();
  write_queued(c.target, toward_host(stream), false);

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
  // The client's end, once all it sent has gone (a line cut short by it never goes).
  if (c.client_eof && !c.transfer_deciding && c.to_target.empty() && toward_host(stream).empty() &&
      !c.target_eof_sent && !c.target_closed) {
    ssh_channel_send_eof(c.target);
    c.target_eof_sent = true;
  }
  // The host's bytes, held by libssh while the queues were full.
  for (const int is_stderr : {0, 1}) {
    std::string& queue = is_stderr ? c.to_client_err : c.scp_from_host;
    if (!c.target_backlog[is_stderr] || queue.size() >= SessionChannel::kMaxQueued) continue;
    char buffer[kReadChunk];
    const int n = ssh_channel_read_nonblocking(c.target, buffer, sizeof buffer, is_stderr);
    if (n < static_cast<int>(sizeof buffer)) c.target_backlog[is_stderr] = false;
    kick();
    if (n <= 0) continue;
    const std::string_view bytes(buffer, static_cast<std::size_t>(n));
    if (is_stderr && c.err_masking)
      c.err_masking->feed(bytes, queue);
    else
      queue.append(bytes);
    c.output_bytes += static_cast<uint64_t>(n);
    count_bytes(0, static_cast<uint64_t>(n));
  }
  // The receiver's answers to journaled entries, in the order they were journaled.
  std::string error;
  while (c.transfer_unanswered > 0 && stream.next_outcome(error)) {
    if (error.empty())
      gate_.recorder().on_complete(std::nullopt);
    else
      gate_.recorder().on_error(std::move(error));
    --c.transfer_unanswered;
  }
  if (c.target_closed || (c.target_eof && c.exit_status)) {
    if (c.target_backlog[0] || c.target_backlog[1] || c.transfer_deciding) return;
    // The host's last bytes are taken first, once the client's side has room for them; what
    // the stream still holds then came out of turn and is not passed on.
    if (c.to_client_out.size() >= SessionChannel::kMaxQueued) return;
    if (c.err_masking) c.err_masking->finish(c.to_client_err);
    c.state = State::finishing;
  }
}

void Session::refuse_scp_entry(SessionChannel& c, const gateway::Refusal& refusal) {
  // The sender is answered with a warning and skips the entry. An upload's client is the
  // sender and prints the warning itself; a download's client never sees the entry, so it is
  // told on stderr, as for a refused sftp request.
  const auto message = fmt::format("portcullis: {}", refusal.message);
  c.scp->refuse(message);
  if (!c.scp->upload()) c.to_client_err += message + "\n";
  kick();
}

void Session::stop_scp(SessionChannel& c, std::string_view why) {
  // A stream the gateway cannot follow cannot be decided: the transfer ends (fail closed).
  const auto refusal =
      gate_.refuse_undecided(c.command, "exec",
                             {.reason = gateway::RefusalReason::denied,
                              .rule = {},
                              .message = fmt::format("the scp transfer is closed: {}", why)});
  spdlog::info("event=scp_stopped session={} reason={:?}", id_, why);
  drop_file_events(c, refusal.message);
  // What was passed so far goes first; the fatal message ends the client's scp, and the
  // host's is signalled as its channel closes.
  c.to_client_out += toward_client(*c.scp);
  toward_client(*c.scp).clear();
  c.to_client_out += c.scp->fatal_for_client(fmt::format("portcullis: {}", refusal.message));
  close_target(c);
  c.exit_status = kRefusedStatus;
  c.target_closed = true;
  c.state = State::finishing;
  c.err_masking.reset();
  kick();
}

}  // namespace portcullis::proto::ssh
