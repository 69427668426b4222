// ForwardChannel: one forwarded connection through the gateway, a pair of channels relayed
// byte for byte: a port forward the client opened (`ssh -L`, `-D`, `-W`: a "direct-tcpip"
// channel, which the gateway opens on the host toward its destination), or a connection to
// the caller's SSH agent that the host opened (agent forwarding, `ssh -A`), which the gateway
// opens toward the client. Each forward was decided once, as it opened (session_forward.cc);
// its bytes are not read, masked or recorded: they count in the session's totals.
#pragma once

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include <cstdint>
#include <string>

#include "policy/command.h"

namespace portcullis::proto::ssh {

class Session;

struct ForwardChannel {
  enum class Kind {
    port,    // the client opened it: the host side is opened once the forward is decided
    agent,   // the host opened it: the client side is opened toward the caller's agent
    remote,  // the host opened it, for a connection to a port it listens on for the client
             // (`ssh -R`): the client side is opened as that forward's
  };
  enum class State {
    clearing,  // a port forward allowed, waiting for the journal (strict)
    opening,   // decided: opening the other side
    running,   // bytes flow both ways
    closed,
  };

  // Bytes held per direction before the gateway stops reading that side (flow control).
  static constexpr std::size_t kMaxQueued = 256 * 1024;

  Kind kind = Kind::port;
  State state = State::clearing;
  Session* session = nullptr;
  // What the client asked for: the destination as it wrote it (HOST:PORT, the journal's and
  // the guardrails' form) and as the host is asked to connect, and where the connection came
  // from on the client's side.
  std::string destination;
  std::string host;
  int port = 0;
  std::string originator;
  int originator_port = 0;
  policy::Command command;  // what was decided (a port forward)

  ssh_channel client = nullptr;
  ssh_channel target = nullptr;
  ssh_channel_callbacks_struct client_callbacks{};
  ssh_channel_callbacks_struct target_callbacks{};

  std::string to_target, to_client;  // read from one side, not yet written to the other
  // libssh holds bytes a callback could not take (the queue was full): read them when there
  // is room again.
  bool client_backlog = false;
  bool target_backlog = false;
  bool client_eof = false, target_eof = false;
  bool client_eof_sent = false, target_eof_sent = false;
  bool client_closed = false, target_closed = false;
};

// A remote forward (`ssh -R`): the client asked the host, through the gateway, to listen on
// ADDRESS:PORT and pass it each connection. Decided and journaled when asked; the host is
// asked to listen once it is allowed (and on disk, with a strict journal).
struct RemoteListen {
  enum class State {
    clearing,   // allowed: waiting for the journal
    requested,  // asking the host to listen
    listening,  // the host listens; its connections are relayed
    over,       // refused after all, refused by the host, or cancelled by the client
  };
  std::string address;  // as the client sent it ("" or "localhost" for ssh's default)
  int port = 0;
  std::string shown;  // ADDRESS:PORT, for the journal and guardrails
  State state = State::clearing;
  policy::Command command;  // what was decided
};

}  // namespace portcullis::proto::ssh
