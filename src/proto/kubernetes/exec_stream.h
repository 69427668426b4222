// ExecStream: the relay logic of one `kubectl exec` or `attach` stream, a WebSocket with the
// channel subprotocol (v4.channel.k8s.io, v5.channel.k8s.io): every message starts with a
// channel byte, 0 stdin, 1 stdout, 2 stderr, 3 the Status that ends the command, 4 a terminal
// resize, and in v5 255 to close the channel named by the next byte. Frames are read whole
// both ways and written again: stdout and stderr masked with the caller's masking profile,
// the rest as they were. What it keeps for the journal is its ExecTranscript's. Pure: no I/O.
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
#include "proto/kubernetes/exec_transcript.h"
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

struct ExecStreamLimits {
  std::size_t max_frame = kMaxWebSocketMessage;  // a frame or a fragmented message
  std::size_t kept_input = 64 * 1024;            // stdin kept for the journal
  std::size_t kept_output = 64 * 1024;           // masked stdout and stderr kept for it
};

class ExecStream final : public ExecTranscript {
 public:
  // `masker` may be null (output passes unmasked); `scratch` and `counts` must outlive this.
  // `mask_key_source` gives 4 random bytes for each frame written toward the server (RFC 6455
  // section 5.3 wants them unpredictable: callers pass RAND_bytes).
  ExecStream(const masking::Masker* masker, masking::Scratch* scratch, masking::MaskCounts* counts,
             std::function<std::array<uint8_t, 4>()> mask_key_source, ExecStreamLimits limits = {});

  // From the client, frames as RFC 6455 has a client write them; written again masked with new
  // keys.
  Result<void> from_client(std::string_view bytes, std::string& to_server) override;
  // From the API server: stdout and stderr masked and written again as one binary frame per
  // masked piece, the rest as it came (the Status too: the kubelet's words on how the command
  // ended, not its output). Refused besides bad frames: a message on a channel the subprotocol
  // does not have (a base64 subprotocol's digit among them).
  Result<void> from_server(std::string_view bytes, std::string& to_client) override;
  void flush(std::string& to_client) override;
  void finish(std::string& to_client) override;

  // A close frame went either way.
  bool closed() const { return client_closed_ || server_closed_; }

 private:
  // One whole message (its frames reassembled) or a control frame.
  Result<void> client_message(Opcode opcode, std::string_view payload, std::string& to_server);
  Result<void> server_message(Opcode opcode, std::string_view payload, std::string& to_client);
  // Masked output of an output channel, written as one frame on it.
  void send_output(ExecChannel channel, std::string_view masked, std::string& to_client);
  void finish_channel(ExecChannel channel, std::string& to_client);
  masking::OutputMasking& masking_of(ExecChannel channel);

  masking::OutputMasking stdout_masking_;
  masking::OutputMasking stderr_masking_;
  std::function<std::array<uint8_t, 4>()> mask_key_source_;
  FrameReader client_reader_;
  FrameReader server_reader_;
  // The message being reassembled from fragments, each way: its opcode and payload so far.
  Opcode client_opcode_ = Opcode::binary;
  std::string client_message_;
  Opcode server_opcode_ = Opcode::binary;
  std::string server_message_;
  std::string status_;  // the status channel's bytes so far
  std::string masked_;  // scratch for masked output
  bool client_closed_ = false;
  bool server_closed_ = false;
};

}  // namespace portcullis::proto::kubernetes
