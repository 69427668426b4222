// ScpStream: the two byte streams of a legacy scp transfer (`scp -t PATH` or `scp -f PATH` run
// on the host) as the gateway passes them on, following OpenSSH's scp.c. The sender (the
// client for -t, the host for -f) writes control lines (`C%04o SIZE NAME\n`, `D%04o 0 NAME\n`,
// `E\n`, `T MTIME 0 ATIME 0\n`, `\x01`/`\x02` messages) and file data; the receiver answers
// each line and each file's data with one response (`\0`, or a `\x01`/`\x02` message). Each
// file and directory the sender announces stops the stream until the session has decided it
// (forwarded byte for byte, or answered by the gateway with a warning the sender skips it on);
// a stream it cannot follow stops for good. Pure: no I/O, no policy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shell/scp_request.h"

namespace portcullis::proto::ssh::scp {

// A file (C) or directory (D) the sender announced, where it is on the host.
struct Entry {
  bool directory = false;
  std::string name;  // as the control line gives it: one path component
  // Where it is on the host, normalised: PATH joined with the directories it is in and NAME.
  // At the top of an upload without -d, also PATH itself: scp's sink writes to PATH when PATH
  // is not a directory on the host, which the gateway cannot know.
  std::vector<std::string> paths;
  // The same places as the host's scp reaches them: PATH as it was sent, joined with the
  // directories and NAME but not normalised (`link/../x` is not `x` on the host when `link`
  // is a link), for asking the host where each leads.
  std::vector<std::string> host_paths;
  uint64_t size = 0;  // a file's data
};

// "scp write \"x\"": what the journal shows for an entry of an upload or a download.
std::string describe(const Entry& entry, bool upload);

class ScpStream {
 public:
  // The longest control line or sender's message taken: OpenSSH writes a file name of at most
  // NAME_MAX (255) bytes, and a message of a path (PATH_MAX, 4096) and its reason.
  static constexpr std::size_t kMaxLine = 8192;
  // Directories open inside one another; deeper, the stream is not followed.
  static constexpr std::size_t kMaxDepth = 256;

  enum class Step {
    wait,    // nothing more can be taken now: more bytes needed, or the peer's answer
    decide,  // pending() is announced: decide it, then allow() or refuse()
    broken,  // the stream cannot be followed (error()): end the transfer
  };

  explicit ScpStream(shell::ScpRequest request);

  bool upload() const { return request_.upload; }

  // The sender's bytes, taken from the front of `input` as far as they can go now. The sender
  // writes a line only once the previous one is answered, and the stream keeps to that: a
  // line that comes before its turn waits in `input`.
  Step from_sender(std::string& input);
  const Entry& pending() const { return pending_; }
  const shell::ScpRequest& request() const { return request_; }

  // The pending entry goes to the receiver; its outcome is journaled (next_outcome()).
  void allow();
  // The pending entry never reaches the receiver: the sender is answered with a warning
  // (`\x01MESSAGE\n`), on which OpenSSH's scp skips that file or directory and goes on.
  void refuse(std::string_view message);

  // The receiver's answers, taken from the front of `input`. An answer nothing was sent for
  // breaks the stream: the sender would take it for the next one's and the two would no
  // longer agree on what is data.
  Step from_receiver(std::string& input);

  // Bytes for the receiver and the sender, in order; the session writes them and erases what
  // it wrote.
  std::string& to_receiver() { return to_receiver_; }
  std::string& to_sender() { return to_sender_; }

  // Answers the receiver owes.
  std::size_t awaiting() const { return awaiting_.size(); }

  // The outcome of the oldest allowed entry once the receiver answered it (a file's once its
  // data is answered): true, with `error` empty when it succeeded, or the receiver's message.
  bool next_outcome(std::string& error);

  // The fatal message (`\x02MESSAGE\n`) that tells the client the transfer ends, after what it
  // was sent: when the client gets the receiver's answers and one is cut short, it is ended
  // first.
  std::string fatal_for_client(std::string_view message) const;

  const std::string& error() const { return error_; }

 private:
  // What an answer the receiver owes is for.
  enum class Awaits { ready, times, file, directory, end, data };
  struct Awaited {
    Awaits what;
    std::optional<Entry> entry;  // a file or directory's
  };

  Step fail(std::string why);
  Step read_line(std::string_view line);
  Step read_entry(std::string_view line);
  void answered(const Awaited& awaited, bool ok, std::string message);
  // Where an entry NAME is on the host (Entry::paths and Entry::host_paths).
  void place(Entry& entry) const;

  shell::ScpRequest request_;
  std::string base_;  // PATH, normalised

  enum class Phase { line, data, data_status, status_message, deciding, broken };
  Phase phase_ = Phase::line;
  std::string line_;        // the sender's current line, until its newline
  uint64_t data_left_ = 0;  // of the file being passed
  Entry pending_;
  std::string pending_line_;      // its control line, as the sender wrote it
  std::size_t message_size_ = 0;  // of the sender's message after a file's data
  std::optional<Entry> file_;     // the file whose data flows
  // The directories open, each with where it may be on the host (Entry::paths, host_paths).
  struct Directory {
    std::vector<std::string> paths, host_paths;
  };
  std::vector<Directory> directories_;

  std::deque<Awaited> awaiting_;
  bool in_answer_ = false;            // the receiver's message, until its newline
  std::string answer_;                // its text (the start of it), for the journal
  std::deque<std::string> outcomes_;  // empty: succeeded

  std::string to_receiver_, to_sender_;
  std::string error_;
};

}  // namespace portcullis::proto::ssh::scp
