// Where the paths of a file operation lead on the host. Paths are matched by `paths`
// guardrails as the client wrote them, and a link on the host would carry a write past them
// (`link/authorized_keys` with `link -> .ssh`); so, when a guardrail has `paths`, the gateway
// asks the host's own sftp-server (SSH_FXP_REALPATH, on a channel of its own) where each path
// leads, and the operation is decided on both. A host that cannot be asked (no sftp
// subsystem, no answer within kAnswerTimeout) gets no file operation decided under such a
// guardrail: the operation is refused (fail closed).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "net/stream.h"
#include "proto/ssh/channel_writes.h"
#include "proto/ssh/host_path_channel.h"
#include "proto/ssh/session.h"
#include "shell/paths.h"

namespace portcullis::proto::ssh {
namespace asio = boost::asio;
using net::use_nothrow;
using HostPathState = HostPathChannel::State;

namespace {

// The host's sftp-server answers a REALPATH at once; a host slower than this is taken as one
// that cannot say.
constexpr std::chrono::seconds kAnswerTimeout{10};

HostPathChannel* host_path_channel_of(void* userdata) {
  return static_cast<HostPathChannel*>(userdata);
}

}  // namespace

void add_paths_led_to(policy::Command& command, std::vector<std::string> led) {
  auto* shell_command = command.shell();
  if (!shell_command) return;
  auto& paths = shell_command->paths;
  for (auto& path : led) {
    path = shell::normalise_path(path);
    if (std::find(paths.begin(), paths.end(), path) == paths.end()) paths.push_back(path);
  }
}

bool Session::needs_host_paths(const policy::Command& command) const {
  const auto& guardrails = gate_.context().config->guardrails;
  if (std::none_of(guardrails.begin(), guardrails.end(),
                   [](const config::GuardrailConfig& g) { return !g.when.paths.empty(); }))
    return false;
  // One the grant refuses anyway is refused without asking the host anything.
  const auto* shell_command = command.shell();
  if (!shell_command || !gate_.is_open()) return false;
  const auto& allowed = gate_.grant().allow;
  return std::all_of(shell_command->classes.begin(), shell_command->classes.end(),
                     [&](const std::string& name) {
                       return std::find(allowed.begin(), allowed.end(), name) != allowed.end();
                     });
}

asio::awaitable<Result<std::vector<std::string>>> Session::where_paths_lead(
    std::vector<std::string> paths, bool follow_last_link, std::function<bool()> earlier_answered) {
  auto self = shared_from_this();
  if (!target_) co_return Error{"the host is not connected"};
  if (!host_paths_) host_paths_ = std::make_shared<HostPathChannel>(this, kick_.get_executor());
  const auto channel = host_paths_;
  if (earlier_answered && !earlier_answered()) {
    // A link the client made a moment ago, in a request still on its way, would not be seen
    // by a question that overtakes it on the gateway's own channel.
    const auto deadline = std::chrono::steady_clock::now() + kAnswerTimeout;
    channel->waiting_for_earlier = true;
    while (!earlier_answered()) {
      if (ending_ || channel->state == HostPathState::failed) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        channel->waiting_for_earlier = false;
        co_return Error{fmt::format("the host did not answer the earlier requests within {} s",
                                    kAnswerTimeout.count())};
      }
      channel->wake.expires_at(deadline);
      co_await channel->wake.async_wait(use_nothrow);
    }
    channel->waiting_for_earlier = false;
  }
  std::vector<sftp::PathQuestion> questions;
  std::vector<uint32_t> ids;
  for (const auto& path : paths) {
    questions.push_back(sftp::question_for(path, follow_last_link));
    const auto id = channel->queries.ask(questions.back().ask);
    if (!id) co_return Error{"too many questions to the host are open"};
    ids.push_back(*id);
  }
  kick();
  std::vector<std::optional<sftp::RealpathAnswer>> answers(ids.size());
  const auto deadline = std::chrono::steady_clock::now() + kAnswerTimeout;
  for (;;) {
    if (channel->state == HostPathState::failed) co_return Error{channel->failure};
    bool all = true;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (!answers[i]) answers[i] = channel->queries.take(ids[i]);
      if (!answers[i]) all = false;
    }
    if (all) break;
    if (ending_) co_return Error{"the session is ending"};
    if (std::chrono::steady_clock::now() >= deadline) {
      fail_host_paths(
          fmt::format("the host's sftp-server did not answer within {} s", kAnswerTimeout.count()));
      continue;
    }
    channel->wake.expires_at(deadline);
    co_await channel->wake.async_wait(use_nothrow);
  }
  std::vector<std::string> led;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    // A status (no such file, permission denied): the host cannot reach the path now, and the
    // operation will fail there too; what the client wrote is all there is to decide on.
    if (answers[i]->path) led.push_back(sftp::answer_for(questions[i], *answers[i]->path));
  }
  co_return led;
}

void Session::fail_host_paths(std::string why) {
  if (!host_paths_) return;
  auto& channel = *host_paths_;
  if (channel.state == HostPathState::failed) return;
  spdlog::info("event=ssh_host_paths_failed session={} reason={:?}", id_, why);
  channel.state = HostPathState::failed;
  channel.failure = fmt::format("the gateway cannot ask the host where paths lead: {}", why);
  if (channel.channel) {
    ssh_remove_channel_callbacks(channel.channel, &channel.callbacks);
    ssh_channel_close(channel.channel);
    ssh_channel_free(channel.channel);
    channel.channel = nullptr;
  }
  channel.wake.cancel();
  // The next operation asks on a new channel; those waiting now are refused.
  host_paths_.reset();
}

void Session::service_host_paths() {
  if (!host_paths_ || !target_) return;
  auto& c = *host_paths_;
  if (c.waiting_for_earlier) c.wake.cancel();  // this turn may have brought their answers
  if (c.state == HostPathState::opening) {
    if (!c.channel) {
      c.channel = ssh_channel_new(target_->session());
      if (!c.channel) return fail_host_paths("libssh could not make a channel");
      c.callbacks.userdata = &c;
      c.callbacks.channel_data_function = [](ssh_session, ssh_channel, void* data, uint32_t len,
                                             int is_stderr, void* userdata) -> int {
        // What sftp-server says on stderr is for nobody: taken and dropped.
        auto& hp = *host_path_channel_of(userdata);
        if (!is_stderr &&
            !hp.queries.from_host(std::string_view(static_cast<const char*>(data), len)))
          hp.session->kick();  // service_host_paths sees the error
        hp.wake.cancel();
        return static_cast<int>(len);
      };
      // The channel is freed by service_host_paths, not in its own callback.
      c.callbacks.channel_close_function = [](ssh_session, ssh_channel, void* userdata) {
        host_path_channel_of(userdata)->closed = true;
        host_path_channel_of(userdata)->session->kick();
      };
      ssh_callbacks_init(&c.callbacks);
    }
    const int rc = ssh_channel_open_session(c.channel);
    if (rc == SSH_AGAIN) return;
    if (rc != SSH_OK) return fail_host_paths(ssh_get_error(target_->session()));
    ssh_set_channel_callbacks(c.channel, &c.callbacks);
    c.state = HostPathState::starting;
  }
  if (c.state == HostPathState::starting) {
    const int rc = ssh_channel_request_subsystem(c.channel, "sftp");
    if (rc == SSH_AGAIN) return;
    if (rc != SSH_OK) return fail_host_paths("the host refused its sftp subsystem");
    c.state = HostPathState::running;
  }
  if (c.closed) return fail_host_paths("the host closed its sftp channel");
  if (!c.queries.error().empty()) return fail_host_paths(c.queries.error());
  write_queued(c.channel, c.queries.to_host(), false);
}

}  // namespace portcullis::proto::ssh
