// RFC 6455 WebSocket frames, as kubectl and the API server exchange them on an exec or attach
// stream: an incremental reader that checks every rule a relay depends on (direction of
// masking, reserved bits and opcodes, control frame size, fragment order, a bound on frames and
// messages) and a writer. Pure: no I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace portcullis::proto::kubernetes {

// Largest frame or fragmented message read by default. The API server's stream writers send
// far smaller messages (Go's io.Copy writes 32 KiB at a time); this bounds what a peer can make
// the gateway hold.
inline constexpr std::size_t kMaxWebSocketMessage = 16 << 20;
// RFC 6455 section 5.5: a control frame's payload is 125 bytes at most.
inline constexpr std::size_t kMaxControlPayload = 125;

enum class Opcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xa,
};

// Close, ping and pong: the opcodes with the high bit set (RFC 6455 section 5.5).
constexpr bool is_control(Opcode opcode) {
  return (static_cast<uint8_t>(opcode) & 0x8) != 0;
}

struct Frame {
  bool fin = true;
  Opcode opcode = Opcode::binary;
  std::string payload = {};  // unmasked
  bool masked = false;       // whether it came masked (always so from a client)

  bool operator==(const Frame&) const = default;
};

// Which end wrote the frames a reader reads: RFC 6455 section 5.1 has a client mask every frame
// and a server mask none, and an endpoint fail the connection on any other.
enum class Sender : uint8_t { client, server };

class FrameReader {
 public:
  explicit FrameReader(Sender sender, std::size_t max_message = kMaxWebSocketMessage);

  // Adds bytes read from the stream; they are read by next().
  void feed(std::string_view bytes);
  // The next whole frame, or nullopt until more bytes are fed. Refused, for good (every later
  // call answers the same error): a reserved bit set (no extension is negotiated on these
  // streams), an unknown opcode, a control frame that is fragmented or longer than 125 bytes, a
  // frame masked or not against the sender's rule, a 64-bit length with its high bit set, a
  // continuation outside a fragmented message, a data frame inside one, a frame or a
  // fragmented message longer than the bound.
  Result<std::optional<Frame>> next();

  // Bytes fed and not yet read as frames.
  std::size_t buffered() const { return buffer_.size() - read_at_; }

 private:
  Error fail(std::string message);

  Sender sender_;
  std::size_t max_message_;
  std::string buffer_;
  std::size_t read_at_ = 0;
  // Inside a fragmented message: the payload bytes of its frames so far.
  bool in_message_ = false;
  std::size_t message_size_ = 0;
  std::optional<Error> failed_;
};

// One frame written out. With `mask_key` (frames a client sends) the payload is masked with it
// and the key written in the header; without, the frame is written unmasked (a server's).
std::string write_frame(Opcode opcode, bool fin, std::string_view payload,
                        std::optional<std::array<uint8_t, 4>> mask_key);

}  // namespace portcullis::proto::kubernetes
