// Forwards: port forwards the client opens (`ssh -L`, `-D`, `-W`: "direct-tcpip" channels),
// remote forwards (`ssh -R`: the host listens and passes each connection back) and agent
// forwarding (`ssh -A`). Each is decided as it is asked for, under the grant's classes
// `forward` and `agent` and the guardrails (a forward's address, HOST:PORT, is what `paths`
// globs see), and journaled with its decision. None can wait for a review: libssh wants the
// answer to a channel open or a global request before its callback returns, so a rule that
// would hold one refuses it. Allowed, the bytes are relayed as they are (a forwarded
// connection carries any protocol: it is not read, masked or recorded) and count in the
// session's totals.
//
// Unix-socket forwards and X11 are refused: libssh answers them itself.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "proto/ssh/channel_writes.h"
#include "proto/ssh/forward_channel.h"
#include "proto/ssh/session.h"
#include "proto/ssh/session_channel.h"

namespace portcullis::proto::ssh {
namespace asio = boost::asio;
using ForwardState = ForwardChannel::State;

namespace {

// Forwarded connections one client connection may have open at once: a browser through
// `ssh -D` opens a few dozen.
constexpr std::size_t kMaxForwards = 64;
// Ports one client connection may have the host listen on.
constexpr std::size_t kMaxRemoteListens = 16;

ForwardChannel* forward_channel_of(void* userdata) {
  return static_cast<ForwardChannel*>(userdata);
}

// A host name or address as a destination may name it: letters, digits and `.-_` (a name or
// an IPv4 address), or an IPv6 address; anything else (glob characters, spaces, a slash) is
// not one, and would read as something else in the journal and to guardrails.
bool is_destination_host(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_' || c == ':';
  });
}

// The address a remote forward listens on: a host name or address, or "" / "*" (every
// address of the host, where its sshd lets clients choose).
bool is_listen_address(std::string_view address) {
  return address.empty() || address == "*" || is_destination_host(address);
}

// HOST:PORT, with an IPv6 address in brackets as URLs write it.
std::string destination_text(std::string_view host, int port) {
  if (host.empty()) return fmt::format("*:{}", port);
  if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

// Takes what a side sent into `queue`, up to its bound; the rest waits in libssh.
int take(ForwardChannel& forward, std::string& queue, bool& backlog, const void* data, uint32_t len,
         bool from_client) {
  const std::size_t room =
      queue.size() < ForwardChannel::kMaxQueued ? ForwardChannel::kMaxQueued - queue.size() : 0;
  const auto taken = std::min<std::size_t>(room, len);
  if (taken < len) backlog = true;
  queue.append(static_cast<const char*>(data), taken);
  forward.session->forward_bytes(from_client ? taken : 0, from_client ? 0 : taken);
  return static_cast<int>(taken);
}

void set_client_callbacks(ForwardChannel& forward) {
  auto& cb = forward.client_callbacks;
  cb.userdata = &forward;
  cb.channel_data_function = [](ssh_session, ssh_channel, void* data, uint32_t len, int,
                                void* userdata) -> int {
    auto& f = *forward_channel_of(userdata);
    return take(f, f.to_target, f.client_backlog, data, len, true);
  };
  cb.channel_eof_function = [](ssh_session, ssh_channel, void* userdata) {
    forward_channel_of(userdata)->client_eof = true;
    forward_channel_of(userdata)->session->forward_changed();
  };
  cb.channel_close_function = [](ssh_session, ssh_channel, void* userdata) {
    forward_channel_of(userdata)->client_closed = true;
    forward_channel_of(userdata)->session->forward_changed();
  };
  ssh_callbacks_init(&cb);
  ssh_set_channel_callbacks(forward.client, &cb);
}

void set_target_callbacks(ForwardChannel& forward) {
  auto& cb = forward.target_callbacks;
  cb.userdata = &forward;
  cb.channel_data_function = [](ssh_session, ssh_channel, void* data, uint32_t len, int,
                                void* userdata) -> int {
    auto& f = *forward_channel_of(userdata);
    return take(f, f.to_client, f.target_backlog, data, len, false);
  };
  cb.channel_eof_function = [](ssh_session, ssh_channel, void* userdata) {
    forward_channel_of(userdata)->target_eof = true;
    forward_channel_of(userdata)->session->forward_changed();
  };
  cb.channel_close_function = [](ssh_session, ssh_channel, void* userdata) {
    forward_channel_of(userdata)->target_closed = true;
    forward_channel_of(userdata)->session->forward_changed();
  };
  ssh_callbacks_init(&cb);
  ssh_set_channel_callbacks(forward.target, &cb);
}

// Reads what libssh held back from `channel` while `queue` was full.
void drain_backlog(ForwardChannel& forward, ssh_channel channel, std::string& queue, bool& backlog,
                   bool from_client) {
  if (!backlog || queue.size() >= ForwardChannel::kMaxQueued) return;
  char buffer[kReadChunk];
  const int n = ssh_channel_read_nonblocking(channel, buffer, sizeof buffer, 0);
  if (n < static_cast<int>(sizeof buffer)) backlog = false;
  if (n <= 0) return;
  queue.append(buffer, static_cast<std::size_t>(n));
  const auto bytes = static_cast<uint64_t>(n);
  forward.session->forward_bytes(from_client ? bytes : 0, from_client ? 0 : bytes);
  if (backlog) forward.session->forward_changed();
}

}  // namespace

void Session::forward_bytes(uint64_t in, uint64_t out) {
  count_bytes(in, out);
  kick();
}

void Session::forward_changed() {
  kick();
}

int Session::on_message(ssh_message message) {
  const int type = ssh_message_type(message);
  const int subtype = ssh_message_subtype(message);
  if (type == SSH_REQUEST_CHANNEL_OPEN && subtype == SSH_CHANNEL_DIRECT_TCPIP)
    return open_port_forward(message) ? 0 : 1;
  if (type == SSH_REQUEST_GLOBAL && subtype == SSH_GLOBAL_REQUEST_TCPIP_FORWARD)
    return listen_remote(message) ? 0 : 1;
  if (type == SSH_REQUEST_GLOBAL && subtype == SSH_GLOBAL_REQUEST_CANCEL_TCPIP_FORWARD)
    return cancel_remote(message) ? 0 : 1;
  // Anything else gets libssh's answer, a refusal: Unix-socket forwards, X11 and other channel
  // types, login methods the gateway does not offer.
  return 1;
}

int Session::on_target_message(ssh_message message) {
  if (ssh_message_type(message) != SSH_REQUEST_CHANNEL_OPEN ||
      ssh_message_subtype(message) != SSH_CHANNEL_FORWARDED_TCPIP)
    return 1;
  // A connection to a port the host listens on for the client: only one the client asked for
  // and the gateway allowed.
  const int port = ssh_message_channel_request_open_destination_port(message);
  std::shared_ptr<RemoteListen> listen;
  // A connection can arrive in the same read as the host's yes to the request (still
  // `requested` here): the host passes connections only for a port it was asked to listen on.
  for (const auto& candidate : remote_listens_)
    if (candidate->port == port && (candidate->state == RemoteListen::State::listening ||
                                    candidate->state == RemoteListen::State::requested))
      listen = candidate;
  if (ending_ || !listen || forwards_.size() >= kMaxForwards) return 1;
  const char* originator = ssh_message_channel_request_open_originator(message);
  auto forward = std::make_shared<ForwardChannel>();
  forward->kind = ForwardChannel::Kind::remote;
  forward->state = ForwardState::opening;
  forward->session = this;
  forward->host = listen->address;
  forward->port = listen->port;
  forward->destination = listen->shown;
  forward->originator = originator && is_destination_host(originator) ? originator : "127.0.0.1";
  forward->originator_port = ssh_message_channel_request_open_originator_port(message);
  forward->target = ssh_message_channel_request_open_reply_accept(message);
  if (!forward->target) return 0;
  set_target_callbacks(*forward);
  forwards_.push_back(std::move(forward));
  kick();
  return 0;
}

bool Session::listen_remote(ssh_message message) {
  if (ending_ || !logged_in_ || !admitted_ || remote_listens_.size() >= kMaxRemoteListens)
    return false;
  const char* address = ssh_message_global_request_address(message);
  const int port = ssh_message_global_request_port(message);
  const std::string_view address_text = address ? address : "";
  // Port 0 asks the host to choose one, and the answer must name it: the gateway answers
  // before it asks the host (libssh wants the answer now), so it cannot.
  if (!is_listen_address(address_text) || port <= 0 || port > 65535) {
    spdlog::info(
        "event=forward_refused session={} reason=\"not an address and port\" address={:?} "
        "port={}",
        id_, address_text.substr(0, 64), port);
    return false;
  }
  auto listen = std::make_shared<RemoteListen>();
  listen->address = address_text;
  listen->port = port;
  listen->shown = destination_text(address_text == "*" ? "" : address_text, port);
  listen->command.text = "tcpip-forward " + listen->shown;
  listen->command.via = "forward";
  listen->command.detail = policy::forward_port(listen->shown);
  gate_.count_command();
  if (gate_.decide_operation(listen->command).next != gateway::CommandGate::Next::run) return false;
  listen->state = RemoteListen::State::clearing;
  asio::co_spawn(kick_.get_executor(), clear_remote(listen), asio::detached);
  ssh_message_global_request_reply_success(message, static_cast<uint16_t>(port));
  remote_listens_.push_back(std::move(listen));
  kick();
  return true;
}

bool Session::cancel_remote(ssh_message message) {
  const int port = ssh_message_global_request_port(message);
  bool found = false;
  for (auto& listen : remote_listens_)
    if (listen->port == port && listen->state != RemoteListen::State::over) {
      // The host keeps the port until the session ends; the gateway refuses its connections.
      listen->state = RemoteListen::State::over;
      found = true;
    }
  if (!found) return false;
  ssh_message_global_request_reply_success(message, static_cast<uint16_t>(port));
  return true;
}

asio::awaitable<void> Session::clear_remote(std::shared_ptr<RemoteListen> listen) {
  auto self = shared_from_this();
  if (auto failed = co_await gate_.wait_for_commits()) {
    listen->state = RemoteListen::State::over;
    end(*failed);
    co_return;
  }
  if (listen->state != RemoteListen::State::clearing || ending_) co_return;
  listen->state = RemoteListen::State::requested;
  kick();
}

void Session::service_remote_listens() {
  if (!target_ || target_failed_) return;
  for (auto& listen : remote_listens_) {
    if (listen->state != RemoteListen::State::requested) continue;
    // One global request at a time (libssh's rule): the next waits for this one's answer.
    const int rc = ssh_channel_listen_forward(
        target_->session(), listen->address.empty() ? nullptr : listen->address.c_str(),
        listen->port, nullptr);
    if (rc == SSH_AGAIN) return;
    if (rc == SSH_OK) {
      listen->state = RemoteListen::State::listening;
    } else {
      // The client was told yes already; it hears nothing of this, the log and the host do.
      spdlog::warn("event=forward_failed session={} listen={:?} reason={:?}", id_, listen->shown,
                   ssh_get_error(target_->session()));
      listen->state = RemoteListen::State::over;
    }
  }
}

bool Session::open_port_forward(ssh_message message) {
  if (ending_ || !logged_in_ || !admitted_ || forwards_.size() >= kMaxForwards) return false;
  const char* host = ssh_message_channel_request_open_destination(message);
  const int port = ssh_message_channel_request_open_destination_port(message);
  const char* originator = ssh_message_channel_request_open_originator(message);
  const std::string_view host_text = host ? host : "";
  if (!is_destination_host(host_text) || port <= 0 || port > 65535) {
    spdlog::info(
        "event=forward_refused session={} reason=\"not a host and port\" host={:?} port={}", id_,
        host_text.substr(0, 64), port);
    return false;
  }
  auto forward = std::make_shared<ForwardChannel>();
  forward->session = this;
  forward->host = host_text;
  forward->port = port;
  forward->destination = destination_text(host_text, port);
  forward->originator = originator && is_destination_host(originator) ? originator : "127.0.0.1";
  forward->originator_port = ssh_message_channel_request_open_originator_port(message);
  forward->command.text = "direct-tcpip " + forward->destination;
  forward->command.via = "forward";
  forward->command.detail = policy::forward_port(forward->destination);

  // Decided and recorded now: a refusal is the channel's open failure. (A reloaded
  // configuration is picked up at the next command: ending the session from inside libssh's
  // callback is not safe.)
  gate_.count_command();
  if (gate_.decide_operation(forward->command).next != gateway::CommandGate::Next::run)
    return false;
  forward->client = ssh_message_channel_request_open_reply_accept(message);
  if (!forward->client) return true;  // answered; the channel could not be made
  set_client_callbacks(*forward);
  asio::co_spawn(kick_.get_executor(), clear_forward(forward), asio::detached);
  forwards_.push_back(std::move(forward));
  kick();
  return true;
}

asio::awaitable<void> Session::clear_forward(std::shared_ptr<ForwardChannel> forward) {
  auto self = shared_from_this();
  // With a strict journal, the forward's event is on disk before the host is asked for it.
  if (auto failed = co_await gate_.wait_for_commits()) {
    close_forward(*forward);
    end(*failed);
    co_return;
  }
  if (forward->state != ForwardState::clearing || ending_) co_return;
  forward->state = ForwardState::opening;
  kick();
}

void Session::decide_agent(SessionChannel& channel) {
  policy::Command command;
  command.text = "auth-agent-req";
  command.via = "agent";
  command.detail = policy::forward_agent();
  gate_.count_command();
  const auto outcome = gate_.decide_operation(command);
  if (outcome.next != gateway::CommandGate::Next::run) {
    // The command runs without the agent, as it would on a host that refuses agent
    // forwarding; the caller is told why, where ssh itself would say nothing.
    channel.to_client_err += fmt::format("portcullis: {} (the caller's agent is not forwarded)\n",
                                         outcome.refusal.message);
    return;
  }
  channel.agent_forwarding = true;
  agent_allowed_ = true;
}

ssh_channel Session::open_agent_forward() {
  // Only for a session whose agent forwarding was allowed; a host that opens one otherwise
  // (its sshd was asked by no one) is refused.
  if (ending_ || !agent_allowed_ || !target_ || forwards_.size() >= kMaxForwards) return nullptr;
  ssh_channel target = ssh_channel_new(target_->session());
  if (!target) return nullptr;
  auto forward = std::make_shared<ForwardChannel>();
  forward->kind = ForwardChannel::Kind::agent;
  forward->state = ForwardState::opening;
  forward->session = this;
  forward->destination = "agent";
  forward->target = target;
  set_target_callbacks(*forward);
  forwards_.push_back(std::move(forward));
  kick();
  return target;
}

void Session::service_forwards() {
  service_remote_listens();
  for (auto it = forwards_.begin(); it != forwards_.end();) {
    auto& forward = **it;
    service_forward(forward);
    if (forward.state == ForwardState::closed) {
      it = forwards_.erase(it);
    } else {
      ++it;
    }
  }
}

void Session::service_forward(ForwardChannel& f) {
  if (f.state == ForwardState::closed) return;
  if (target_failed_ || (f.kind == ForwardChannel::Kind::port && f.client_closed &&
                         f.state != ForwardState::running)) {
    close_forward(f);
    return;
  }
  if (f.state == ForwardState::clearing || !target_) return;  // the host connection may be opening
  if (f.state == ForwardState::opening) {
    int rc;
    if (f.kind == ForwardChannel::Kind::port) {
      if (!f.target) {
        f.target = ssh_channel_new(target_->session());
        if (!f.target) {
          close_forward(f);
          return;
        }
        // Before the channel opens: the destination may speak first (an SSH or MySQL server
        // does), and its first bytes can arrive with the confirmation, in the same read.
        set_target_callbacks(f);
      }
      rc = ssh_channel_open_forward(f.target, f.host.c_str(), f.port, f.originator.c_str(),
                                    f.originator_port);
    } else {
      if (f.target_closed) {
        close_forward(f);
        return;
      }
      if (!f.client) {
        f.client = ssh_channel_new(client_.get());
        if (!f.client) {
          close_forward(f);
          return;
        }
        set_client_callbacks(f);
      }
      rc = f.kind == ForwardChannel::Kind::agent
               ? ssh_channel_open_auth_agent(f.client)
               : ssh_channel_open_reverse_forward(f.client, f.host.c_str(), f.port,
                                                  f.originator.c_str(), f.originator_port);
    }
    if (rc == SSH_AGAIN) return;
    if (rc != SSH_OK) {
      spdlog::info(
          "event=forward_failed session={} destination={:?} reason={:?}", id_, f.destination,
          ssh_get_error(f.kind == ForwardChannel::Kind::port ? target_->session() : client_.get()));
      close_forward(f);
      return;
    }
    f.state = ForwardState::running;
  }
  write_queued(f.target, f.to_target, false);
  write_queued(f.client, f.to_client, false);
  drain_backlog(f, f.client, f.to_target, f.client_backlog, true);
  drain_backlog(f, f.target, f.to_client, f.target_backlog, false);
  if (f.client_eof && f.to_target.empty() && !f.client_backlog && !f.target_eof_sent &&
      !f.target_closed) {
    ssh_channel_send_eof(f.target);
    f.target_eof_sent = true;
  }
  if (f.target_eof && f.to_client.empty() && !f.target_backlog && !f.client_eof_sent &&
      !f.client_closed) {
    ssh_channel_send_eof(f.client);
    f.client_eof_sent = true;
  }
  // Over once a side has closed and what it sent has been passed on (what was sent toward a
  // side that closed is dropped), or both ends have ended their output.
  const bool client_done = f.client_closed && f.to_target.empty() && !f.client_backlog;
  const bool target_done = f.target_closed && f.to_client.empty() && !f.target_backlog;
  if (client_done || target_done || (f.client_closed && f.target_closed) ||
      (f.client_eof_sent && f.target_eof_sent))
    close_forward(f);
}

void Session::close_forward(ForwardChannel& f) {
  if (f.state == ForwardState::closed) return;
  if (f.target) {
    ssh_remove_channel_callbacks(f.target, &f.target_callbacks);
    if (!f.target_closed) ssh_channel_close(f.target);
    ssh_channel_free(f.target);
    f.target = nullptr;
  }
  if (f.client) {
    ssh_remove_channel_callbacks(f.client, &f.client_callbacks);
    if (!f.client_closed) ssh_channel_close(f.client);
    ssh_channel_free(f.client);
    f.client = nullptr;
  }
  f.state = ForwardState::closed;
}

}  // namespace portcullis::proto::ssh
