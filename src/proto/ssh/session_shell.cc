// Interactive shells: the keys a person types reach the host as they are typed, so that the
// host's shell echoes and edits them, except the Enter that ends a line. The gateway rebuilds
// the line (TypedLine), holds the Enter, decides the line as it would an exec command, and then
// sends the Enter, or clears the line on the host (Ctrl-U, then an empty line for a fresh
// prompt) and tells the person why. Best effort by nature: what a shell runs can differ from
// what was typed (aliases, history expansion, keys the gateway does not follow, which make the
// line class unknown). The masked output is recorded as asciicast v2.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <chrono>

#include "policy/command.h"
#include "proto/ssh/session.h"
#include "proto/ssh/session_channel.h"

namespace portcullis::proto::ssh {
namespace asio = boost::asio;
using State = SessionChannel::State;

namespace {

// A pause in a shell's output this long sends the line it holds (a prompt has no newline).
constexpr auto kQuietOutput = std::chrono::milliseconds(20);
// How long an Enter typed before any echo waits for one (a pasted line arrives whole; its echo
// comes a round trip later).
constexpr auto kEchoWait = std::chrono::milliseconds(200);
// Clears the line on the host (a terminal's kill character, and a line editor's), then ends an
// empty line so that the shell prints a fresh prompt.
constexpr std::string_view kClearLine = "\x15\r";

}  // namespace

bool Session::start_recording(SessionChannel& channel) {
  const auto& dir = gate_.context().config->audit.recordings_dir;
  const auto now = std::chrono::system_clock::now();
  const std::string title = fmt::format("{} on {}", gate_.identity().subject, connection_);
  AsciicastWriter::Header header{
      .width = channel.columns,
      .height = channel.rows,
      .timestamp = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count(),
      .term = channel.pty ? std::string_view(channel.term) : std::string_view("dumb"),
      .title = title};
  std::string error;
  channel.recording = ShellRecording::create(dir, id_, ++shells_, header, error);
  if (!channel.recording) {
    spdlog::error("event=ssh_recording_failed session={} error={:?}", id_, error);
    return false;
  }
  spdlog::info("event=ssh_shell_recording session={} recording={:?}", id_,
               channel.recording->path().string());
  return true;
}

void Session::record_output(SessionChannel& channel, const std::string& queue, std::size_t from) {
  if (channel.recording && from < queue.size())
    channel.recording->output(std::string_view(queue).substr(from));
}

void Session::flush_quiet_output(SessionChannel& c) {
  const auto now = std::chrono::steady_clock::now();
  for (auto* masking : {&c.out_masking, &c.err_masking}) {
    if (!*masking || (*masking)->held() == 0) continue;
    if (now - c.last_output < kQuietOutput) {
      wake_at(c.last_output + kQuietOutput);
      continue;
    }
    std::string& queue = masking == &c.out_masking ? c.to_client_out : c.to_client_err;
    const std::size_t from = queue.size();
    (*masking)->flush(queue);
    record_output(c, queue, from);
  }
}

void Session::pass_typed_keys(const std::shared_ptr<SessionChannel>& channel) {
  auto& c = *channel;
  while (!c.line_deciding && !c.to_target.empty()) {
    if (c.typed.empty()) c.output_since_line = 0;  // the echo of this line is what comes next
    const std::size_t taken = c.typed.take(c.to_target);
    c.to_shell.append(c.to_target, 0, taken);
    c.to_target.erase(0, taken);
    if (c.to_target.empty()) return;
    // An Enter is at the front.
    if (c.typed.empty()) {
      c.to_shell.push_back(c.to_target.front());
      c.to_target.erase(0, 1);
      continue;
    }
    // With a terminal, a line nothing was echoed for is input the terminal hides.
    bool echoed = true;
    if (c.pty && c.output_since_line == 0) {
      const auto now = std::chrono::steady_clock::now();
      if (!c.echo_deadline) c.echo_deadline = now + kEchoWait;
      if (now < *c.echo_deadline) {
        wake_at(*c.echo_deadline);
        return;
      }
      echoed = false;
    }
    c.echo_deadline.reset();
    c.line_deciding = true;
    asio::co_spawn(kick_.get_executor(), decide_line(channel, echoed), asio::detached);
    return;
  }
}

asio::awaitable<void> Session::decide_line(std::shared_ptr<SessionChannel> channel, bool echoed) {
  auto self = shared_from_this();
  auto& c = *channel;
  if (!gate_.refresh()) co_return;
  gate_.count_command();
  policy::Command command;
  command.via = "shell";
  if (echoed) {
    command.text = c.typed.text();
    command.detail = policy::read_typed_line(command.text, c.typed.followed());
  } else {
    // What the terminal did not show (a password at a prompt) is not journaled: the line is
    // decided as one the gateway cannot read.
    command.text = fmt::format("[{} bytes typed without echo]", c.typed.text().size());
    command.detail = policy::hidden_typed_line();
  }
  const uint64_t batch = ++next_batch_;
  auto outcome = gate_.decide(command, batch);
  if (outcome.next == gateway::CommandGate::Next::hold) {
    shell_notice(c, hold_notice_text());
    kick();
    outcome = co_await gate_.wait_for_review(batch);
  }
  const auto withdrawn = [&] {
    if (!ending_ && c.state == State::running) return false;
    if (outcome.next == gateway::CommandGate::Next::run)
      gate_.recorder().on_error("the shell ended before the line was sent");
    return true;
  };
  if (withdrawn()) co_return;
  if (outcome.next == gateway::CommandGate::Next::refuse) {
    shell_notice(c, fmt::format("portcullis: {}\n", outcome.refusal.message));
    drop_line(c);
    co_return;
  }
  if (auto failed = co_await gate_.wait_for_commits()) {
    refuse_channel(c, *failed, 126);
    end(*failed);
    co_return;
  }
  if (withdrawn()) co_return;
  send_line(c);
}

void Session::send_line(SessionChannel& c) {
  c.to_shell.push_back(c.to_target.front());  // the Enter
  c.to_target.erase(0, 1);
  // The shell runs it now; when it ends is the shell's to know.
  gate_.recorder().on_complete(std::nullopt);
  c.typed.reset();
  c.line_deciding = false;
  kick();
}

void Session::drop_line(SessionChannel& c) {
  c.to_target.erase(0, 1);  // the Enter is not sent
  c.to_shell.append(kClearLine);
  c.typed.reset();
  c.line_deciding = false;
  kick();
}

void Session::shell_notice(SessionChannel& c, std::string_view text) {
  // A terminal in raw mode needs CR LF; the notice starts on a line of its own.
  std::string shown = "\r\n";
  for (const char ch : text) {
    if (ch == '\n') shown.push_back('\r');
    shown.push_back(ch);
  }
  const std::size_t from = c.to_client_out.size();
  c.to_client_out += shown;
  record_output(c, c.to_client_out, from);
}

}  // namespace portcullis::proto::ssh
