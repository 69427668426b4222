// HostPathChannel: the gateway's own sftp channel on a session's connection to the host, the
// client never sees it, opened when a file operation is first to be decided under a `paths`
// guardrail and kept for the session's life. On it the gateway asks the host's sftp-server
// where the paths of an operation lead (sftp_path_queries.h).
#pragma once

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <string>
#include <vector>

#include "policy/command.h"
#include "proto/ssh/sftp_path_queries.h"

namespace portcullis::proto::ssh {

class Session;

struct HostPathChannel {
  enum class State {
    opening,   // the channel is being opened on the host
    starting,  // asking for the sftp subsystem
    running,   // questions go and answers come
    failed,    // `failure` says why; every question waiting is answered with it
  };

  HostPathChannel(Session* owner, const boost::asio::any_io_executor& executor)
      : session(owner), wake(executor) {}

  Session* session;
  ssh_channel channel = nullptr;  // freed with the host's session, or when it fails
  ssh_channel_callbacks_struct callbacks{};
  State state = State::opening;
  bool closed = false;  // by the host
  sftp::PathQueries queries;
  std::string failure;
  // Whoever waits for answers waits on it: cancelled when an answer, or the failure, comes,
  // and after each turn of the session while someone waits for earlier requests' answers.
  boost::asio::steady_timer wake;
  bool waiting_for_earlier = false;
};

// Adds to a file operation's paths where they lead on the host (`led`, as the host wrote
// them), normalised, so that `paths` guardrails see both.
void add_paths_led_to(policy::Command& command, std::vector<std::string> led);

}  // namespace portcullis::proto::ssh
