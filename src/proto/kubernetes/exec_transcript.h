// ExecTranscript: what the relay of one `kubectl exec` or `attach` stream keeps for the journal,
// whatever the stream's framing (WebSocket or SPDY): stdin as sent, output as sent to the client
// (masked), their sizes, and the exit status read from the Status that ends the command. The
// framings derive from it and read their own frames; the relay drives them through this one
// interface. Pure: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace portcullis::proto::kubernetes {

// The Status that ends a command is a small JSON object; more than this is not one.
inline constexpr std::size_t kMaxStatusSize = 64 * 1024;

struct ExecTranscriptLimits {
  std::size_t kept_input = 64 * 1024;   // stdin kept for the journal
  std::size_t kept_output = 64 * 1024;  // masked stdout and stderr kept for it
};

class ExecTranscript {
 public:
  explicit ExecTranscript(ExecTranscriptLimits limits = {}) : limits_(limits) {}
  virtual ~ExecTranscript() = default;
  ExecTranscript(const ExecTranscript&) = delete;
  ExecTranscript& operator=(const ExecTranscript&) = delete;

  // Bytes from the client (kubectl): appends to `to_server` what to send on; stdin is recorded.
  // An error leaves the stream unusable: the caller closes it.
  virtual Result<void> from_client(std::string_view bytes, std::string& to_server) = 0;
  // Bytes from the API server: appends to `to_client` what to send on, stdout and stderr
  // masked. A line not yet ended is held (see flush). An error leaves the stream unusable: the
  // caller closes it, and nothing unmasked was appended.
  virtual Result<void> from_server(std::string_view bytes, std::string& to_client) = 0;
  // The output paused (the caller's choice of pause, e.g. 20 ms): what is held of stdout and
  // stderr is masked and sent as it stands, as masking::OutputMasking::flush does; a prompt has
  // no newline. A value astride the pause can escape.
  virtual void flush(std::string& to_client) = 0;
  // The server's stream ended or closed: what is held, masked, for the client.
  virtual void finish(std::string& to_client) = 0;

  // From the Status: 0 on Success, N on a NonZeroExitCode failure with an ExitCode cause of N;
  // nullopt before one arrives or on another failure.
  std::optional<int> exit_code() const { return exit_code_; }
  // The Status' message on another failure (or the reason when it has no message); empty
  // otherwise.
  const std::string& status_message() const { return status_message_; }
  // stdin as sent, up to kept_input bytes; input_cut() tells whether more was sent.
  const std::string& input_seen() const { return input_seen_; }
  bool input_cut() const { return input_cut_; }
  // stdout and stderr as sent to the client (masked), interleaved, up to kept_output bytes.
  const std::string& output_seen() const { return output_seen_; }
  bool output_cut() const { return output_cut_; }
  uint64_t input_bytes() const { return input_bytes_; }    // stdin bytes sent to the server
  uint64_t output_bytes() const { return output_bytes_; }  // masked bytes sent to the client

 protected:
  // stdin on its way to the server.
  void record_input(std::string_view data);
  // Masked output on its way to the client.
  void record_output(std::string_view masked);
  // The Status as received so far: read when it is a whole JSON object, kept unread until then.
  void read_status(std::string_view json);

 private:
  ExecTranscriptLimits limits_;
  std::optional<int> exit_code_;
  std::string status_message_;
  std::string input_seen_;
  bool input_cut_ = false;
  std::string output_seen_;
  bool output_cut_ = false;
  uint64_t input_bytes_ = 0;
  uint64_t output_bytes_ = 0;
};

}  // namespace portcullis::proto::kubernetes
