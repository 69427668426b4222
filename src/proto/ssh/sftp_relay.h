// SftpRelay: the two byte streams of an sftp subsystem channel as the gateway passes them on.
// From the client, whole requests: those that move data of a handle opened earlier are
// forwarded as they are; those that name files stop the stream until the session has decided
// them (forwarded byte for byte, or answered by the gateway with a PERMISSION_DENIED status);
// a request the gateway cannot read stops it for good. From the host, bytes pass through as
// they come, the gateway's own replies slipped in between the host's packets, and the answers
// to the requests the session journaled are noted for their outcome. Pure: no I/O, no policy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "proto/ssh/sftp_packets.h"

namespace portcullis::proto::ssh::sftp {

class SftpRelay {
 public:
  // Bytes held toward the host before the relay stops taking the client's requests: the same
  // bound as a channel's queues (SessionChannel::kMaxQueued).
  static constexpr std::size_t kMaxForward = 256 * 1024;
  // Journaled requests the host has not answered yet; beyond, the client's stream waits.
  // OpenSSH's sftp client keeps at most 64 requests in flight.
  static constexpr std::size_t kMaxAwaiting = 1024;
  // The gateway's replies waiting for the end of the host's current packet; beyond, the
  // client's stream waits.
  static constexpr std::size_t kMaxReplies = 64 * 1024;

  // What the session does next with the client's stream.
  enum class Step {
    wait,    // nothing more can be taken now (more bytes needed, or the host's side is full)
    decide,  // pending() names files: decide it, then allow() or refuse()
    refuse,  // pending() is one the gateway cannot decide: refuse() it
    broken,  // the stream cannot be followed (error()): close the channel
  };

  // Takes what it can from the front of `input`, the client's bytes in order.
  Step from_client(std::string& input);
  const Request& pending() const { return pending_; }
  // The pending request goes to the host; `journaled`: its answer is awaited for the journal
  // (next_outcome()).
  void allow(bool journaled);
  // The pending request is answered by the gateway with PERMISSION_DENIED and `message`.
  void refuse(std::string_view message);
  // Bytes for the host, in order; the session writes them and erases what it wrote.
  std::string& to_host() { return to_host_; }

  // The host's bytes, appended to `to_client` with the gateway's replies put between the
  // host's packets. False when the stream cannot be followed (error()).
  bool from_host(std::string_view bytes, std::string& to_client);
  // The gateway's replies, if the host's stream stands between two packets.
  void flush_replies(std::string& to_client);

  // The outcome of the oldest journaled request once the host answered it: true, with `error`
  // empty when it succeeded, or the status the host gave ("no such file").
  bool next_outcome(std::string& error);
  // Journaled requests still unanswered.
  std::size_t awaiting() const { return awaiting_.size(); }

  // Nothing is held from the client: no part of a request, none pending, nothing for the host.
  bool idle() const { return incoming_.empty() && !holding_ && to_host_.empty(); }
  const std::string& error() const { return error_; }

 private:
  struct Awaited {
    uint32_t id = 0;
    bool answered = false;
    std::string error;
  };

  Step fail(std::string why);
  bool note_reply(const Reply& reply);

  bool initialised_ = false;  // the client's INIT went by
  std::string incoming_;      // the client's current request, whole once holding_
  bool holding_ = false;
  Request pending_;
  std::string to_host_;
  std::string replies_;
  std::deque<Awaited> awaiting_;

  std::string host_header_;    // the start of the host's current packet, until read
  std::size_t host_left_ = 0;  // the rest of its body, passed through as it comes
  std::string error_;
};

}  // namespace portcullis::proto::ssh::sftp
