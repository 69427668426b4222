// Building SFTP packets in tests, field by field, as a client or a server writes them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace portcullis::proto::ssh::sftp::testing {

class Wire {
 public:
  Wire& u8(uint8_t value) {
    bytes_.push_back(static_cast<char>(value));
    return *this;
  }
  Wire& u32(uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes_.push_back(static_cast<char>(value >> shift));
    return *this;
  }
  Wire& u64(uint64_t value) {
    return u32(static_cast<uint32_t>(value >> 32)).u32(static_cast<uint32_t>(value));
  }
  Wire& str(std::string_view value) {
    u32(static_cast<uint32_t>(value.size()));
    bytes_.append(value);
    return *this;
  }
  // ATTRS with no field.
  Wire& no_attributes() { return u32(0); }

  // The body as it stands.
  const std::string& body() const { return bytes_; }
  // The body framed: its length first.
  std::string packet() const {
    Wire framed;
    framed.u32(static_cast<uint32_t>(bytes_.size()));
    return framed.bytes_ + bytes_;
  }

 private:
  std::string bytes_;
};

// A request: its type and id, the rest to add.
inline Wire request(uint8_t type, uint32_t id) {
  Wire wire;
  wire.u8(type).u32(id);
  return wire;
}

}  // namespace portcullis::proto::ssh::sftp::testing
