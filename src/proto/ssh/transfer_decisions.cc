// The file operations of a transfer, sftp's requests and legacy scp's entries alike: each is
// decided on its own (its paths, and file_write when it changes anything) while the transfer
// holds the session's turn, and its journal event stays open until the host (sftp) or the
// receiving scp (scp) answers it. A decision that must wait for a review or a strict journal
// stops the stream behind it until it returns; sftp_channel.cc and scp_channel.cc say what
// allowing or refusing one does to their stream.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <functional>

#include "proto/ssh/host_path_channel.h"
#include "proto/ssh/session.h"
#include "proto/ssh/session_channel.h"

namespace portcullis::proto::ssh {
namespace asio = boost::asio;
using State = SessionChannel::State;

bool Session::decide_file_operation(SessionChannel& c, policy::Command command,
                                    std::vector<std::string> host_paths, bool follow_last_link) {
  if (host_paths.empty() || !needs_host_paths(command))
    return decide_file_operation_now(c, command);
  for (auto& channel : channels_) {
    if (channel.get() != &c) continue;
    c.transfer_deciding = true;
    asio::co_spawn(kick_.get_executor(),
                   decide_file_operation_on_host(channel, std::move(command), std::move(host_paths),
                                                 follow_last_link),
                   asio::detached);
    break;
  }
  return false;
}

asio::awaitable<void> Session::decide_file_operation_on_host(
    std::shared_ptr<SessionChannel> channel, policy::Command command,
    std::vector<std::string> host_paths, bool follow_last_link) {
  auto self = shared_from_this();
  // sftp requests are pipelined: a symlink made by one still on its way would change where the
  // next one's path leads. (scp's sender waits for each answer before its next line.)
  std::function<bool()> earlier_answered;
  if (channel->sftp)
    earlier_answered = [relay = channel->sftp.get()] { return relay->awaiting() == 0; };
  auto led = co_await where_paths_lead(std::move(host_paths), follow_last_link,
                                       std::move(earlier_answered));
  channel->transfer_deciding = false;
  if (ending_ || channel->state == State::closed || channel->state == State::finishing) {
    if (channel->state == State::closed) deciding_ = false;
    kick();
    co_return;
  }
  if (!led) {
    // Decided without knowing where it leads, a guardrail on paths could be walked past.
    if (!gate_.refresh()) co_return;
    const auto refusal = gate_.refuse_undecided(
        command.text, command.via,
        {.reason = gateway::RefusalReason::denied, .rule = {}, .message = led.error().message});
    refuse_file_operation(*channel, refusal);
    kick();
    co_return;
  }
  // Decided on both: what the client wrote, and where it leads on the host.
  add_paths_led_to(command, std::move(led).value());
  if (decide_file_operation_now(*channel, std::move(command))) kick();
}

bool Session::decide_file_operation_now(SessionChannel& c, policy::Command command) {
  if (!gate_.refresh()) return false;  // the session ends
  gate_.count_command();
  auto outcome = gate_.decide(command, c.batch);
  if (outcome.next == gateway::CommandGate::Next::refuse) {
    refuse_file_operation(c, outcome.refusal);
    return true;
  }
  if (outcome.next == gateway::CommandGate::Next::run) {
    ++c.transfer_unanswered;  // its event is open in the journal until it is answered
    if (!gate_.commits_pending()) {
      allow_file_operation(c);
      return true;
    }
  }
  for (auto& channel : channels_) {
    if (channel.get() != &c) continue;
    c.transfer_deciding = true;
    asio::co_spawn(kick_.get_executor(), await_file_decision(channel, std::move(outcome)),
                   asio::detached);
    break;
  }
  return false;
}

asio::awaitable<void> Session::await_file_decision(std::shared_ptr<SessionChannel> channel,
                                                   gateway::CommandGate::Outcome outcome) {
  auto self = shared_from_this();
  using Next = gateway::CommandGate::Next;
  if (outcome.next == Next::hold) {
    channel->to_client_err += hold_notice_text();
    kick();
    outcome = co_await gate_.wait_for_review(channel->batch);
    if (outcome.next == Next::run) ++channel->transfer_unanswered;
  }
  std::optional<gateway::Refusal> failed;
  if (outcome.next == Next::run) failed = co_await gate_.wait_for_commits();
  channel->transfer_deciding = false;
  if (ending_ || channel->state == State::closed || channel->state == State::finishing) {
    // The channel closed meanwhile: end_transfer ran, or will, without this operation's event.
    drop_file_events(*channel, "the client closed the channel before the file operation was sent");
    if (channel->state == State::closed) deciding_ = false;
    kick();
    co_return;
  }
  if (failed) {
    refuse_file_operation(*channel, *failed);
    end(*failed);
    co_return;
  }
  if (outcome.next == Next::run)
    allow_file_operation(*channel);
  else
    refuse_file_operation(*channel, outcome.refusal);
  kick();
}

void Session::allow_file_operation(SessionChannel& c) {
  if (c.sftp) c.sftp->allow(true);
  if (c.scp) c.scp->allow();
}

void Session::refuse_file_operation(SessionChannel& c, const gateway::Refusal& refusal) {
  if (c.sftp) refuse_sftp_request(c, refusal);
  if (c.scp) refuse_scp_entry(c, refusal);
}

void Session::drop_file_events(SessionChannel& c, std::string_view why) {
  for (; c.transfer_unanswered > 0; --c.transfer_unanswered)
    gate_.recorder().on_error(std::string(why));
}

void Session::end_transfer(SessionChannel& c) {
  if (!c.transfer_running) return;
  c.transfer_running = false;
  drop_file_events(c, "the channel closed before the file operation was answered");
  if (c.transfer_deciding) {
    // The waiting decision lets go of the session's turn when it returns.
    if (gate_.holding()) gate_.cancel_hold();
    return;
  }
  deciding_ = false;
}

}  // namespace portcullis::proto::ssh
