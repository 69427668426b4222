// SPDY/3.1 frames (the SPDY protocol, draft 3.1), as kubectl and the API server exchange them on
// an exec or attach stream when the client does not speak the WebSocket subprotocols (kubectl
// before 1.30, and newer ones told so): an incremental reader that checks what a relay depends
// on (version, the sizes of the control frames it reads) and a writer of data frames. Header
// blocks are spdy_header_block.h's. Pure: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace portcullis::proto::kubernetes {

inline constexpr uint16_t kSpdyVersion = 3;
// Every frame starts with 8 bytes: for a control frame the version, type, flags and length, for
// a data frame the stream id, flags and length.
inline constexpr std::size_t kSpdyFrameHeaderSize = 8;
// The length field has 24 bits.
inline constexpr std::size_t kMaxSpdyPayload = (1u << 24) - 1;
// FLAG_FIN on a data frame, a SYN_STREAM, a SYN_REPLY or a HEADERS frame: the sender's half of
// the stream ends with it.
inline constexpr uint8_t kSpdyFlagFin = 0x01;

enum class SpdyControl : uint16_t {
  syn_stream = 1,
  syn_reply = 2,
  rst_stream = 3,
  settings = 4,
  ping = 6,
  goaway = 7,
  headers = 8,
  window_update = 9,
};

struct SpdyFrame {
  bool control = false;
  uint16_t type = 0;  // a control frame's type (SpdyControl, or one this reader does not know)
  uint8_t flags = 0;
  // The stream a data frame belongs to, or that a SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS or
  // WINDOW_UPDATE names; 0 for the other control frames.
  uint32_t stream_id = 0;
  std::string_view payload;  // what follows the 8-byte header
  std::string_view bytes;    // the whole frame as it came
  // A SYN_STREAM's, SYN_REPLY's or HEADERS frame's compressed header block; empty otherwise.
  std::string_view header_block;

  bool is(SpdyControl control_type) const {
    return control && type == static_cast<uint16_t>(control_type);
  }
  bool fin() const { return (flags & kSpdyFlagFin) != 0; }
};

class SpdyFrameReader {
 public:
  explicit SpdyFrameReader(std::size_t max_payload = kMaxSpdyPayload);

  // Adds bytes read from the stream; they are read by next(). Frames returned before are no
  // longer valid.
  void feed(std::string_view bytes);
  // The next whole frame, its views into this reader valid until the next feed(); nullopt until
  // more bytes are fed. Refused, for good (every later call answers the same error): a control
  // frame of another version than 3, a frame longer than the bound, a SYN_STREAM, SYN_REPLY,
  // HEADERS, RST_STREAM, PING, GOAWAY or WINDOW_UPDATE too short for its fields, a stream id of
  // 0 where one is needed.
  Result<std::optional<SpdyFrame>> next();

  // Bytes fed and not yet read as frames.
  std::size_t buffered() const { return buffer_.size() - read_at_; }

 private:
  Error fail(std::string message);

  std::size_t max_payload_;
  std::string buffer_;
  std::size_t read_at_ = 0;
  std::optional<Error> failed_;
};

// Appends data frames carrying `data` on `stream_id`: one, or several when it is longer than a
// frame can be; `flags` (FIN) go on the last. Empty data with FIN is one empty frame.
void append_spdy_data(uint32_t stream_id, uint8_t flags, std::string_view data, std::string& out);

}  // namespace portcullis::proto::kubernetes
