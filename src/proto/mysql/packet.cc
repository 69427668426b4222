// The MySQL packet layer: framing, and the reader and writer of its encodings.
#include "proto/mysql/packet.h"

#include <cstring>

namespace portcullis::proto::mysql {
namespace {

uint32_t header_length(std::string_view buffer, std::size_t at) {
  return static_cast<uint8_t>(buffer[at]) | (static_cast<uint8_t>(buffer[at + 1]) << 8) |
         (static_cast<uint32_t>(static_cast<uint8_t>(buffer[at + 2])) << 16);
}

}  // namespace

FrameStatus next_frame(std::string_view buffer, std::size_t max_payload, Frame& frame) {
  frame.payload.clear();
  std::size_t at = 0;
  for (;;) {
    if (buffer.size() - at < kHeaderSize) return FrameStatus::need_more;
    const uint32_t length = header_length(buffer, at);
    if (frame.payload.size() + length > max_payload) return FrameStatus::too_large;
    if (buffer.size() - at - kHeaderSize < length) return FrameStatus::need_more;
    frame.sequence = static_cast<uint8_t>(buffer[at + 3]);
    frame.payload.append(buffer.substr(at + kHeaderSize, length));
    at += kHeaderSize + length;
    if (length < kMaxPacketPayload) {
      frame.consumed = at;
      return FrameStatus::ready;
    }
  }
}

std::optional<std::string_view> single_packet_payload(std::string_view buffer, uint8_t* sequence) {
  if (buffer.size() < kHeaderSize) return std::nullopt;
  const uint32_t length = header_length(buffer, 0);
  if (length >= kMaxPacketPayload || buffer.size() - kHeaderSize < length) return std::nullopt;
  if (sequence) *sequence = static_cast<uint8_t>(buffer[3]);
  return buffer.substr(kHeaderSize, length);
}

uint8_t append_packet(std::string& out, std::string_view payload, uint8_t sequence) {
  for (;;) {
    const std::size_t length = std::min(payload.size(), kMaxPacketPayload);
    out.push_back(static_cast<char>(length & 0xff));
    out.push_back(static_cast<char>((length >> 8) & 0xff));
    out.push_back(static_cast<char>((length >> 16) & 0xff));
    out.push_back(static_cast<char>(sequence++));
    out.append(payload.substr(0, length));
    payload.remove_prefix(length);
    // A piece of exactly 2^24-1 bytes says "more follows": an empty one ends the payload.
    if (length < kMaxPacketPayload) return sequence;
  }
}

bool PacketReader::need(std::size_t n) {
  if (!ok_ || data_.size() - at_ < n) {
    ok_ = false;
    return false;
  }
  return true;
}

uint8_t PacketReader::u8() {
  if (!need(1)) return 0;
  return static_cast<uint8_t>(data_[at_++]);
}

uint16_t PacketReader::u16() {
  if (!need(2)) return 0;
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data() + at_);
  at_ += 2;
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

uint32_t PacketReader::u24() {
  if (!need(3)) return 0;
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data() + at_);
  at_ += 3;
  return p[0] | (p[1] << 8) | (static_cast<uint32_t>(p[2]) << 16);
}

uint32_t PacketReader::u32() {
  if (!need(4)) return 0;
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data() + at_);
  at_ += 4;
  return p[0] | (p[1] << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

uint64_t PacketReader::u48() {
  const uint64_t low = u32();
  const uint64_t high = u16();
  return low | (high << 32);
}

uint64_t PacketReader::u64() {
  const uint64_t low = u32();
  const uint64_t high = u32();
  return low | (high << 32);
}

uint64_t PacketReader::lenenc_int() {
  const uint8_t first = u8();
  if (first < 0xfb) return first;
  if (first == 0xfc) return u16();
  if (first == 0xfd) return u24();
  if (first == 0xfe) return u64();
  ok_ = false;  // 0xfb (NULL) and 0xff (an error packet's marker) are not integers
  return 0;
}

std::string_view PacketReader::lenenc_string() {
  const uint64_t length = lenenc_int();
  if (!ok_ || length > remaining()) {
    ok_ = false;
    return {};
  }
  return bytes(static_cast<std::size_t>(length));
}

std::optional<std::string_view> PacketReader::lenenc_string_or_null() {
  if (ok_ && remaining() > 0 && peek() == 0xfb) {
    ++at_;
    return std::nullopt;
  }
  return lenenc_string();
}

std::string_view PacketReader::nul_string() {
  if (!ok_) return {};
  const auto end = data_.find('\0', at_);
  if (end == std::string_view::npos) {
    ok_ = false;
    return {};
  }
  const auto s = data_.substr(at_, end - at_);
  at_ = end + 1;
  return s;
}

std::string_view PacketReader::nul_or_rest() {
  if (!ok_) return {};
  const auto end = data_.find('\0', at_);
  if (end == std::string_view::npos) return rest();
  return nul_string();
}

std::string_view PacketReader::bytes(std::size_t n) {
  if (!need(n)) return {};
  const auto s = data_.substr(at_, n);
  at_ += n;
  return s;
}

std::string_view PacketReader::rest() {
  if (!ok_) return {};
  const auto s = data_.substr(at_);
  at_ = data_.size();
  return s;
}

PacketWriter& PacketWriter::u8(uint8_t v) {
  out_.push_back(static_cast<char>(v));
  return *this;
}

PacketWriter& PacketWriter::u16(uint16_t v) {
  u8(v & 0xff);
  return u8(v >> 8);
}

PacketWriter& PacketWriter::u24(uint32_t v) {
  u16(v & 0xffff);
  return u8((v >> 16) & 0xff);
}

PacketWriter& PacketWriter::u32(uint32_t v) {
  u16(v & 0xffff);
  return u16(v >> 16);
}

PacketWriter& PacketWriter::u64(uint64_t v) {
  u32(static_cast<uint32_t>(v));
  return u32(static_cast<uint32_t>(v >> 32));
}

PacketWriter& PacketWriter::lenenc_int(uint64_t v) {
  if (v < 0xfb) return u8(static_cast<uint8_t>(v));
  if (v <= 0xffff) return u8(0xfc).u16(static_cast<uint16_t>(v));
  if (v <= 0xffffff) return u8(0xfd).u24(static_cast<uint32_t>(v));
  return u8(0xfe).u64(v);
}

PacketWriter& PacketWriter::lenenc_string(std::string_view s) {
  lenenc_int(s.size());
  return bytes(s);
}

PacketWriter& PacketWriter::nul_string(std::string_view s) {
  bytes(s);
  return u8(0);
}

PacketWriter& PacketWriter::bytes(std::string_view s) {
  out_.append(s);
  return *this;
}

PacketWriter& PacketWriter::zeros(std::size_t n) {
  out_.append(n, '\0');
  return *this;
}

std::size_t lenenc_int_size(uint64_t v) {
  if (v < 0xfb) return 1;
  if (v <= 0xffff) return 3;
  if (v <= 0xffffff) return 4;
  return 9;
}

}  // namespace portcullis::proto::mysql
