// SpdyExecStream: the relay logic of one `kubectl exec` or `attach` stream over SPDY/3.1 with
// the stream protocol v4.channel.k8s.io (or v5, the same over SPDY), as kubectl before 1.30
// speaks it. The client opens one SPDY stream per purpose, naming it in the `streamtype`
// header of its SYN_STREAM: error (the Status that ends the command), stdin, stdout, stderr,
// resize. The client's frames pass as they came (its header blocks are read, to know each
// stream's purpose; stdin is recorded). The server's data on stdout and stderr is masked and
// written again as data frames on the same stream; the rest passes as it came. What the
// gateway cannot place is refused: a stream the server opens, data on a stream the client did
// not open or on one whose purpose is not output. Pure: no I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "masking/masker.h"
#include "masking/output_masking.h"
#include "proto/kubernetes/exec_transcript.h"
#include "proto/kubernetes/spdy_frames.h"
#include "proto/kubernetes/spdy_header_block.h"

namespace portcullis::proto::kubernetes {

// The stream protocols this relay reads over SPDY, in the header X-Stream-Protocol-Version:
// v4's error stream carries a Status (v5 adds nothing over SPDY). Before v4 it carried plain
// text, and the gateway could not read the exit status.
inline constexpr std::array<std::string_view, 2> kSpdyExecProtocols{"v5.channel.k8s.io",
                                                                    "v4.channel.k8s.io"};
bool is_readable_spdy_exec_protocol(std::string_view protocol);
// Of the protocols a client offers (the values of its X-Stream-Protocol-Version header lines,
// each one or several separated by commas), those this relay reads, in the client's order.
std::vector<std::string> readable_spdy_exec_protocols(const std::vector<std::string_view>& offered);

// The purpose of a stream, from its SYN_STREAM's `streamtype` header (k8s.io/api/core/v1
// StreamType*); `unknown` for any other value, which the server refuses and the relay lets
// carry nothing back.
enum class SpdyExecStreamType : uint8_t {
  unknown,
  error,
  stdin_data,
  stdout_data,
  stderr_data,
  resize
};

struct SpdyExecStreamLimits {
  std::size_t max_frame = 16 << 20;  // a frame's payload
  std::size_t max_streams = 16;      // streams the client may open (exec opens five at most)
  ExecTranscriptLimits kept = {};
};

class SpdyExecStream final : public ExecTranscript {
 public:
  // `masker` may be null (output passes unmasked); `scratch` and `counts` must outlive this.
  SpdyExecStream(const masking::Masker* masker, masking::Scratch* scratch,
                 masking::MaskCounts* counts, SpdyExecStreamLimits limits = {});

  // From the client: passed on as they came. Refused: frames that do not read, a header block
  // that does not inflate, a SYN_STREAM whose id is not a new odd one, whose `streamtype` is
  // missing, repeated or holds several values, or that names stdout, stderr or error a second
  // time, more than max_streams streams.
  Result<void> from_client(std::string_view bytes, std::string& to_server) override;
  // From the API server: stdout and stderr masked, written again as data frames on their
  // stream (FIN after what was held), the Status on the error stream read and passed on, the
  // rest as it came. Refused: frames that do not read, a header block that does not inflate, a
  // SYN_STREAM (a stream the server opens), data on a stream the client did not open, data on
  // stdin, resize or a stream of unknown purpose.
  Result<void> from_server(std::string_view bytes, std::string& to_client) override;
  void flush(std::string& to_client) override;
  void finish(std::string& to_client) override;

 private:
  struct Stream {
    SpdyExecStreamType type = SpdyExecStreamType::unknown;
    bool server_done = false;  // the server's half ended (FIN)
  };
  Result<void> open_stream(const SpdyFrame& frame);
  Result<void> server_data(const SpdyFrame& frame, std::string& to_client);
  // What is held of an output stream, masked, as a data frame on it.
  void finish_output(uint32_t stream_id, std::string& to_client);
  void send_output(uint32_t stream_id, uint8_t flags, std::string_view masked,
                   std::string& to_client);
  masking::OutputMasking& masking_of(SpdyExecStreamType type);

  SpdyExecStreamLimits limits_;
  SpdyFrameReader client_reader_;
  SpdyFrameReader server_reader_;
  SpdyHeaderReader client_headers_;
  SpdyHeaderReader server_headers_;
  masking::OutputMasking stdout_masking_;
  masking::OutputMasking stderr_masking_;
  std::map<uint32_t, Stream> streams_;
  uint32_t last_client_stream_ = 0;
  uint32_t stdout_id_ = 0;  // 0 until the client opens it
  uint32_t stderr_id_ = 0;
  std::string status_;  // the error stream's bytes so far
  std::string masked_;  // scratch for masked output
};

}  // namespace portcullis::proto::kubernetes
