// RFC 6455 frames: the incremental reader and the writer.
#include "proto/kubernetes/websocket_frames.h"

#include <fmt/format.h>

#include <utility>

namespace portcullis::proto::kubernetes {

namespace {

// RFC 6455 section 5.2: FIN, RSV1-3 and the opcode in the first byte; MASK and the 7-bit
// length in the second; 126 and 127 announce a 16-bit and a 64-bit length.
constexpr uint8_t kFinBit = 0x80;
constexpr uint8_t kReservedBits = 0x70;
constexpr uint8_t kOpcodeBits = 0x0f;
constexpr uint8_t kMaskBit = 0x80;
constexpr uint8_t kLengthBits = 0x7f;
constexpr uint8_t kLength16 = 126;
constexpr uint8_t kLength64 = 127;

bool known_opcode(uint8_t opcode) {
  switch (opcode) {
    case 0x0:
    case 0x1:
    case 0x2:
    case 0x8:
    case 0x9:
    case 0xa:
      return true;
    default:
      return false;
  }
}

void apply_mask(std::string& bytes, const std::array<uint8_t, 4>& key) {
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<char>(static_cast<uint8_t>(bytes[i]) ^ key[i % 4]);
}

}  // namespace

FrameReader::FrameReader(Sender sender, std::size_t max_message)
    : sender_(sender), max_message_(max_message) {}

void FrameReader::feed(std::string_view bytes) {
  if (failed_) return;
  // What was read is dropped before more is added, so the buffer holds at most one frame and
  // what came after it.
  if (read_at_ > 0) {
    buffer_.erase(0, read_at_);
    read_at_ = 0;
  }
  buffer_.append(bytes);
}

Error FrameReader::fail(std::string message) {
  failed_ = make_error(std::move(message));
  buffer_.clear();
  read_at_ = 0;
  return *failed_;
}

Result<std::optional<Frame>> FrameReader::next() {
  if (failed_) return *failed_;
  const std::string_view rest = std::string_view(buffer_).substr(read_at_);
  if (rest.size() < 2) return std::optional<Frame>();
  const auto first = static_cast<uint8_t>(rest[0]);
  const auto second = static_cast<uint8_t>(rest[1]);
  const bool fin = (first & kFinBit) != 0;
  const uint8_t opcode_bits = first & kOpcodeBits;
  const bool masked = (second & kMaskBit) != 0;

  // Everything the first two bytes tell is checked before waiting for the rest.
  if ((first & kReservedBits) != 0) return fail("websocket frame with a reserved bit set");
  if (!known_opcode(opcode_bits))
    return fail(fmt::format("websocket frame with the unknown opcode {}", opcode_bits));
  const auto opcode = static_cast<Opcode>(opcode_bits);
  if (masked != (sender_ == Sender::client))
    return fail(sender_ == Sender::client ? "unmasked websocket frame from the client"
                                          : "masked websocket frame from the server");
  if (is_control(opcode)) {
    if (!fin) return fail("fragmented websocket control frame");
    if ((second & kLengthBits) > kMaxControlPayload)
      return fail("websocket control frame longer than 125 bytes");
  } else if (opcode == Opcode::continuation) {
    if (!in_message_) return fail("websocket continuation frame outside a fragmented message");
  } else if (in_message_) {
    return fail("websocket data frame inside a fragmented message");
  }

  std::size_t header = 2;
  uint64_t length = second & kLengthBits;
  if (length == kLength16) {
    if (rest.size() < header + 2) return std::optional<Frame>();
    length = (uint64_t{static_cast<uint8_t>(rest[2])} << 8) | static_cast<uint8_t>(rest[3]);
    header += 2;
  } else if (length == kLength64) {
    if (rest.size() < header + 8) return std::optional<Frame>();
    length = 0;
    for (std::size_t i = 0; i < 8; ++i)
      length = (length << 8) | static_cast<uint8_t>(rest[header + i]);
    header += 8;
    // RFC 6455 section 5.2: the most significant bit of a 64-bit length must be 0.
    if ((length >> 63) != 0) return fail("websocket frame length with its high bit set");
  }
  // Checked before the payload arrives, so that a peer cannot make the reader wait for (and
  // hold) more than the bound.
  // Control frames have their own bound (125 bytes) and are not part of a message.
  if (!is_control(opcode) && (length > max_message_ || message_size_ + length > max_message_))
    return fail(fmt::format("websocket message longer than {} bytes", max_message_));

  std::array<uint8_t, 4> key{};
  if (masked) {
    if (rest.size() < header + 4) return std::optional<Frame>();
    for (std::size_t i = 0; i < 4; ++i) key[i] = static_cast<uint8_t>(rest[header + i]);
    header += 4;
  }
  if (rest.size() - header < length) return std::optional<Frame>();

  Frame frame{.fin = fin,
              .opcode = opcode,
              .payload = std::string(rest.substr(header, length)),
              .masked = masked};
  if (masked) apply_mask(frame.payload, key);
  read_at_ += header + length;

  if (!is_control(opcode)) {
    in_message_ = !fin;
    message_size_ = fin ? 0 : message_size_ + length;
  }
  return std::optional<Frame>(std::move(frame));
}

std::string write_frame(Opcode opcode, bool fin, std::string_view payload,
                        std::optional<std::array<uint8_t, 4>> mask_key) {
  std::string out;
  out.reserve(payload.size() + 14);
  out += static_cast<char>((fin ? kFinBit : 0) | static_cast<uint8_t>(opcode));
  const uint8_t mask_bit = mask_key ? kMaskBit : 0;
  const uint64_t length = payload.size();
  // RFC 6455 section 5.2: the shortest length encoding that holds the length.
  if (length < kLength16) {
    out += static_cast<char>(mask_bit | static_cast<uint8_t>(length));
  } else if (length <= 0xffff) {
    out += static_cast<char>(mask_bit | kLength16);
    out += static_cast<char>(length >> 8);
    out += static_cast<char>(length & 0xff);
  } else {
    out += static_cast<char>(mask_bit | kLength64);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((length >> shift) & 0xff);
  }
  if (!mask_key) {
    out.append(payload);
    return out;
  }
  for (const uint8_t byte : *mask_key) out += static_cast<char>(byte);
  const std::size_t start = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out[start + i] = static_cast<char>(static_cast<uint8_t>(out[start + i]) ^ (*mask_key)[i % 4]);
  return out;
}

}  // namespace portcullis::proto::kubernetes
