// The MySQL packet layer and its one reader: a packet is a 3-byte little-endian payload length
// and a 1-byte sequence number; a payload of 2^24-1 bytes continues in the next packet. The
// reader reads the protocol's integer and string encodings from a payload and never reads past
// it; the writer appends them.
// Reference: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace portcullis::proto::mysql {

// The payload length that says "more of this payload follows in the next packet".
inline constexpr std::size_t kMaxPacketPayload = 0xffffff;
inline constexpr std::size_t kHeaderSize = 4;

// One logical packet found at the start of a buffer: the payload (joined when it was split),
// the sequence number of its last piece and the bytes it took.
struct Frame {
  std::string payload;
  uint8_t sequence = 0;
  std::size_t consumed = 0;
};

enum class FrameStatus { ready, need_more, too_large };

// Finds the logical packet at the start of `buffer`: `need_more` until all of it has arrived,
// `too_large` once its payload would pass `max_payload` (nothing is joined beyond the limit).
FrameStatus next_frame(std::string_view buffer, std::size_t max_payload, Frame& frame);

// Whether the logical packet at the start of `buffer` is a single packet (the common case),
// and then its payload without copying. Null when it is not whole yet or is split.
std::optional<std::string_view> single_packet_payload(std::string_view buffer,
                                                      uint8_t* sequence = nullptr);

// Appends `payload` as packets numbered from `sequence` (split every 2^24-1 bytes, with an
// empty last packet when the payload is a multiple of it); returns the next sequence number.
uint8_t append_packet(std::string& out, std::string_view payload, uint8_t sequence);

class PacketReader {
 public:
  explicit PacketReader(std::string_view payload) : data_(payload) {}

  // False once a read went past the payload or met a malformed encoding; every later read
  // returns zero or empty.
  bool ok() const { return ok_; }
  std::size_t remaining() const { return ok_ ? data_.size() - at_ : 0; }
  bool at_end() const { return remaining() == 0; }
  std::size_t position() const { return at_; }
  // The next byte without consuming it (0 at the end).
  uint8_t peek() const { return remaining() > 0 ? static_cast<uint8_t>(data_[at_]) : 0; }

  uint8_t u8();
  uint16_t u16();
  uint32_t u24();
  uint32_t u32();
  uint64_t u48();
  uint64_t u64();
  // A length-encoded integer. 0xfb (NULL in a row) is not an integer: it fails here; rows read
  // it with lenenc_string_or_null.
  uint64_t lenenc_int();
  std::string_view lenenc_string();
  // A text row's value: nullopt for NULL (0xfb); check ok() for a malformed one.
  std::optional<std::string_view> lenenc_string_or_null();
  // Up to the next NUL, which is consumed; fails when there is none.
  std::string_view nul_string();
  // Up to the next NUL, or to the end when there is none (the last field of a packet).
  std::string_view nul_or_rest();
  std::string_view bytes(std::size_t n);
  std::string_view rest();
  void skip(std::size_t n) { (void)bytes(n); }

 private:
  bool need(std::size_t n);

  std::string_view data_;
  std::size_t at_ = 0;
  bool ok_ = true;
};

class PacketWriter {
 public:
  explicit PacketWriter(std::string& out) : out_(out) {}
  PacketWriter& u8(uint8_t v);
  PacketWriter& u16(uint16_t v);
  PacketWriter& u24(uint32_t v);
  PacketWriter& u32(uint32_t v);
  PacketWriter& u64(uint64_t v);
  PacketWriter& lenenc_int(uint64_t v);
  PacketWriter& lenenc_string(std::string_view s);
  PacketWriter& null_value() { return u8(0xfb); }
  PacketWriter& nul_string(std::string_view s);
  PacketWriter& bytes(std::string_view s);
  PacketWriter& zeros(std::size_t n);

 private:
  std::string& out_;
};

// The size lenenc_int(v) takes.
std::size_t lenenc_int_size(uint64_t v);

}  // namespace portcullis::proto::mysql
