// ExecStream: the relay logic of one `kubectl exec` or `attach` stream, a WebSocket with the
// channel subprotocol (v4.channel.k8s.io, v5.channel.k8s.io): every message starts with a
// channel byte, 0 stdin, 1 stdout, 2 stderr, 3 the Status that ends the command, 4 a terminal
// resize, and in v5 255 to close the channel named by the next byte. Frames are read whole
// both ways and written again: stdout and stderr masked with the caller's masking profile,
// the rest as they were. It records stdin, counts the output and reads the exit status.
// Pure: no I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "masking/masker.h"
#include "masking/output_masking.h"
#include "proto/kubernetes/websocket_frames.h"

namespace portcullis::proto::kubernetes {

// The channel bytes of the channel subprotocol (k8s.io/apimachinery wsstream, and
// k8s.io/client-go tools/remotecommand).
enum class ExecChannel : uint8_t {
  stdin_data = 0,
  stdout_data = 1,
  stderr_data = 2,
  status = 3,
  resize = 4,
  close = 255,  // v5: closes the channel its second byte names
};

// The subprotocols this relay reads, most preferred first. The caller offers the API server no
// other: the base64 ones (base64.channel.k8s.io, v4.base64.channel.k8s.io) write the channel as
// a digit and the data in base64, which masking cannot read; v1 to v3 write the error channel
// as plain text, not a Status.
inline constexpr std::array<std::string_view, 2> kExecSubprotocols{"v5.channel.k8s.io",
                                                                   "v4.channel.k8s.io"};

// Of the subprotocols a client offers (its Sec-WebSocket-Protocol header), those this relay
// reads, in the client's order, comma-separated; empty when there is none.
std::string readable_exec_subprotocols(std::string_view offered);

// The Status on the status channel is a small JSON object; more than this is not one.
inline constexpr std::size_t kMaxStatusSize = 64 * 1024;

struct ExecStreamLimits {
  std::size_t max_frame = kMaxWebSocketMessage;  // a frame or a fragmented message
  std::size_t kept_input = 64 * 1024;            // stdin kept for the journal
  std::size_t kept_output = 64 * 1024;           // masked stdout and stderr kept for it
};

class ExecStream {
 public:
  // `masker` may be null (output passes unmasked); `scratch` and `counts` must outlive this.
  // `mask_key_source` gives 4 random bytes for each frame written toward the server (RFC 6455
  // section 5.3 wants them unpredictable: callers pass RAND_bytes).
  ExecStream(const masking::Masker* masker, masking::Scratch* scratch, masking::MaskCounts* counts,
             std::function<std::array<uint8_t, 4>()> mask_key_source, ExecStreamLimits limits = {});

  // Bytes from the client (kubectl): appends to `to_server` the frames to send on, masked with
  // new keys. stdin (channel 0) is recorded. An error (the bytes are not RFC 6455 frames as a
  // client writes them) leaves the stream unusable: the caller closes it.
  Result<void> from_client(std::string_view bytes, std::string& to_server);
  // Bytes from the API server: appends to `to_client` the frames to send on: stdout and stderr
  // masked and written again as one binary frame per masked piece, the rest as it came (the
  // Status too: the kubelet's words on how the command ended, not its output). A line
  // not yet ended is held (see flush). Refused besides bad frames: a message on a channel the
  // subprotocol does not have (a base64 subprotocol's digit among them). An error leaves the
  // stream unusable: the caller closes it, and nothing unmasked was appended.
  Result<void> from_server(std::string_view bytes, std::string& to_client);
  // The output paused (the caller's choice of pause, e.g. 20 ms): what is held of stdout and
  // stderr is masked and sent as it stands, as masking::OutputMasking::flush does; a prompt has
  // no newline. A value astride the pause can escape.
  void flush(std::string& to_client);
  // The server's stream ended or closed: what is held, masked, as frames for the client.
  void finish(std::string& to_client);

  // From the Status on the status channel: 0 on Success, N on a NonZeroExitCode failure with
  // an ExitCode cause of N; nullopt before one arrives or on another failure.
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
  // A close frame went either way.
  bool closed() const { return client_closed_ || server_closed_; }

 private:
  // One whole message (its frames reassembled) or a control frame.
  Result<void> client_message(Opcode opcode, std::string_view payload, std::string& to_server);
  Result<void> server_message(Opcode opcode, std::string_view payload, std::string& to_client);
  // Masked output of an output channel, written as one frame on it.
  void send_output(ExecChannel channel, std::string_view masked, std::string& to_client);
  void finish_channel(ExecChannel channel, std::string& to_client);
  void read_status(std::string_view json);
  masking::OutputMasking& masking_of(ExecChannel channel);

  masking::OutputMasking stdout_masking_;
  masking::OutputMasking stderr_masking_;
  std::function<std::array<uint8_t, 4>()> mask_key_source_;
  ExecStreamLimits limits_;
  FrameReader client_reader_;
  FrameReader server_reader_;
  // The message being reassembled from fragments, each way: its opcode and payload so far.
  Opcode client_opcode_ = Opcode::binary;
  std::string client_message_;
  Opcode server_opcode_ = Opcode::binary;
  std::string server_message_;
  std::string status_;  // the status channel's bytes so far
  std::string masked_;  // scratch for masked output
  std::optional<int> exit_code_;
  std::string status_message_;
  std::string input_seen_;
  bool input_cut_ = false;
  std::string output_seen_;
  bool output_cut_ = false;
  uint64_t input_bytes_ = 0;
  uint64_t output_bytes_ = 0;
  bool client_closed_ = false;
  bool server_closed_ = false;
};

}  // namespace portcullis::proto::kubernetes
