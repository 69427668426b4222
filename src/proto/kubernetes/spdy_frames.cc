// SPDY/3.1 frames: the 8-byte header read, the fields a relay needs checked.
#include "proto/kubernetes/spdy_frames.h"

#include <fmt/format.h>

#include <algorithm>

namespace portcullis::proto::kubernetes {

namespace {

uint32_t read_u24(std::string_view bytes) {
  return static_cast<uint32_t>(static_cast<uint8_t>(bytes[0])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[2]));
}

// A 31-bit stream id (the high bit is reserved).
uint32_t read_stream_id(std::string_view bytes) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(bytes[0])) << 24 |
          static_cast<uint32_t>(static_cast<uint8_t>(bytes[1])) << 16 |
          static_cast<uint32_t>(static_cast<uint8_t>(bytes[2])) << 8 |
          static_cast<uint32_t>(static_cast<uint8_t>(bytes[3]))) &
         0x7fffffffu;
}

// The smallest payload each control type this reader reads has, and whether it is exact.
struct ControlShape {
  std::size_t size;
  bool exact;
  bool names_stream;
  std::size_t header_block_at;  // 0: no header block
};

std::optional<ControlShape> shape_of(uint16_t type) {
  switch (static_cast<SpdyControl>(type)) {
    case SpdyControl::syn_stream:  // stream id, associated id, priority and slot, header block
      return ControlShape{10, false, true, 10};
    case SpdyControl::syn_reply:  // stream id, header block
    case SpdyControl::headers:
      return ControlShape{4, false, true, 4};
    case SpdyControl::rst_stream:     // stream id, status code
    case SpdyControl::window_update:  // stream id, delta
      return ControlShape{8, true, true, 0};
    case SpdyControl::ping:  // id
      return ControlShape{4, true, false, 0};
    case SpdyControl::goaway:  // last good stream id, status code
      return ControlShape{8, true, false, 0};
    case SpdyControl::settings:  // number of entries, then the entries
      return ControlShape{4, false, false, 0};
  }
  return std::nullopt;  // a type this reader does not know: SPDY has it ignored
}

}  // namespace

SpdyFrameReader::SpdyFrameReader(std::size_t max_payload)
    : max_payload_(std::min(max_payload, kMaxSpdyPayload)) {}

Error SpdyFrameReader::fail(std::string message) {
  failed_ = make_error(std::move(message));
  return *failed_;
}

void SpdyFrameReader::feed(std::string_view bytes) {
  if (read_at_ > 0) {
    buffer_.erase(0, read_at_);
    read_at_ = 0;
  }
  buffer_.append(bytes);
}

Result<std::optional<SpdyFrame>> SpdyFrameReader::next() {
  if (failed_) return *failed_;
  const std::string_view rest = std::string_view(buffer_).substr(read_at_);
  if (rest.size() < kSpdyFrameHeaderSize) return std::optional<SpdyFrame>();
  SpdyFrame frame;
  frame.control = (static_cast<uint8_t>(rest[0]) & 0x80) != 0;
  frame.flags = static_cast<uint8_t>(rest[4]);
  const std::size_t length = read_u24(rest.substr(5));
  if (length > max_payload_)
    return fail(
        fmt::format("spdy frame of {} bytes, more than the {} allowed", length, max_payload_));
  if (frame.control) {
    const unsigned version = (static_cast<unsigned>(static_cast<uint8_t>(rest[0])) & 0x7f) << 8 |
                             static_cast<uint8_t>(rest[1]);
    if (version != kSpdyVersion)
      return fail(fmt::format("spdy control frame of version {}, not 3", version));
    frame.type =
        static_cast<uint16_t>(static_cast<uint8_t>(rest[2]) << 8 | static_cast<uint8_t>(rest[3]));
  } else {
    frame.stream_id = read_stream_id(rest);
    if (frame.stream_id == 0) return fail("spdy data frame on stream 0");
  }
  if (rest.size() < kSpdyFrameHeaderSize + length) return std::optional<SpdyFrame>();
  frame.bytes = rest.substr(0, kSpdyFrameHeaderSize + length);
  frame.payload = frame.bytes.substr(kSpdyFrameHeaderSize);
  if (frame.control) {
    if (const auto shape = shape_of(frame.type)) {
      if (frame.payload.size() < shape->size ||
          (shape->exact && frame.payload.size() != shape->size))
        return fail(fmt::format("spdy control frame of type {} with a payload of {} bytes",
                                frame.type, frame.payload.size()));
      if (shape->names_stream) {
        frame.stream_id = read_stream_id(frame.payload);
        if (frame.stream_id == 0)
          return fail(fmt::format("spdy control frame of type {} on stream 0", frame.type));
      }
      if (shape->header_block_at > 0)
        frame.header_block = frame.payload.substr(shape->header_block_at);
    }
  }
  read_at_ += frame.bytes.size();
  return std::optional<SpdyFrame>(frame);
}

void append_spdy_data(uint32_t stream_id, uint8_t flags, std::string_view data, std::string& out) {
  do {
    const std::size_t size = std::min(data.size(), kMaxSpdyPayload);
    const bool last = size == data.size();
    const uint8_t frame_flags = last ? flags : 0;
    const char header[kSpdyFrameHeaderSize] = {static_cast<char>((stream_id >> 24) & 0x7f),
                                               static_cast<char>(stream_id >> 16),
                                               static_cast<char>(stream_id >> 8),
                                               static_cast<char>(stream_id),
                                               static_cast<char>(frame_flags),
                                               static_cast<char>(size >> 16),
                                               static_cast<char>(size >> 8),
                                               static_cast<char>(size)};
    out.append(header, sizeof header);
    out.append(data.substr(0, size));
    data.remove_prefix(size);
  } while (!data.empty());
}

}  // namespace portcullis::proto::kubernetes
